package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// ErrOffline is wrapped by errors from downloads skipped because BLOCKREC_OFFLINE=1 (or
// Options.Offline) is set, and ErrNotAvailable by errors saying a data set is neither cached nor
// obtainable.
var (
	ErrOffline      = errors.New("offline")
	ErrNotAvailable = errors.New("data set not available")
)

// OfflineEnv reports whether the environment variable BLOCKREC_OFFLINE is set to 1 (or "true").
func OfflineEnv() bool {
	v := os.Getenv("BLOCKREC_OFFLINE")
	return v == "1" || v == "true"
}

// DefaultHTTPClient fails fast when the host cannot be reached: 10 s to connect, 10 s for TLS,
// 30 s for the response headers. The body may take as long as the context allows.
func DefaultHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}}
}

// Download fetches url into dest. The bytes go to dest+".part" first; an existing .part file is
// resumed with an HTTP Range request when the server supports it. When wantMD5 is not empty the
// finished file must have that MD5 digest (else the .part file is removed and a *ChecksumError is
// returned). Only then is it renamed to dest, so dest is either absent or complete.
func Download(ctx context.Context, client *http.Client, url, dest, wantMD5 string) error {
	if client == nil {
		client = DefaultHTTPClient()
	}
	part := dest + ".part"
	for attempt := 0; attempt < 2; attempt++ {
		restart, err := fetchInto(ctx, client, url, part)
		if err != nil {
			return err
		}
		if wantMD5 != "" {
			if err := VerifyMD5(part, wantMD5); err != nil {
				os.Remove(part)
				var ce *ChecksumError
				if errors.As(err, &ce) && restart {
					continue // a stale .part we could not resume: fetch it whole once more
				}
				return fmt.Errorf("data: downloading %s: %w", url, err)
			}
		}
		if err := os.Rename(part, dest); err != nil {
			return fmt.Errorf("data: downloading %s: %w", url, err)
		}
		return nil
	}
	return fmt.Errorf("data: downloading %s: gave up after a checksum failure", url)
}

// fetchInto appends the rest of url to part (or writes it whole). resumed says whether an
// earlier partial file was kept (416: nothing more to fetch).
func fetchInto(ctx context.Context, client *http.Client, url, part string) (resumed bool, err error) {
	var offset int64
	if st, err := os.Stat(part); err == nil {
		offset = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("data: downloading %s: %w", url, err)
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("data: downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		flags |= os.O_APPEND
		resumed = true
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		return true, nil // the partial file is already whole
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
	default:
		return false, fmt.Errorf("data: downloading %s: HTTP status %s", url, resp.Status)
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("data: downloading %s: %w", url, err)
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("data: downloading %s into %s (kept for resuming): %w", url, part, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return false, fmt.Errorf("data: downloading %s: got %d of %d bytes (partial file %s kept for resuming)",
			url, n, resp.ContentLength, part)
	}
	return resumed, nil
}
