package raptor

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"

	"github.com/x448/float16"

	"github.com/blockrec/blockrec/lib/hidden"
)

// The activation cache holds a teacher's hidden states at every layer for a set of images,
// computed once and streamed during training. A directory holds manifest.json and chunk files
// chunk-NNNNN.bin. A chunk is the labels of its images (int32 little-endian) followed by the
// states, images × layers × tokens × dim values in the cache's dtype (float32 or float16,
// little-endian). The manifest lists each chunk with its image count, byte size and checksum
// (SHA-256 or CRC-32C); a chunk whose size or checksum differs is an error naming the file. Every
// file is written to a temporary name and renamed, and the manifest is written last, so a cache is
// complete or absent.

const cacheFormat = "blockrec-activations-1"

// ManifestName is the cache's manifest file name.
const ManifestName = "manifest.json"

// CacheDType is the storage type of the states.
type CacheDType string

const (
	Float32 CacheDType = "float32"
	Float16 CacheDType = "float16"
)

func (d CacheDType) size() int {
	if d == Float16 {
		return 2
	}
	return 4
}

// Checksum names a chunk checksum algorithm.
type Checksum string

const (
	SHA256 Checksum = "sha256"
	CRC32C Checksum = "crc32c"
)

func (c Checksum) hasher() (hash.Hash, error) {
	switch c {
	case SHA256:
		return sha256.New(), nil
	case CRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli)), nil
	}
	return nil, fmt.Errorf("unknown checksum %q (want %q or %q)", c, SHA256, CRC32C)
}

// CacheMeta describes the cached states.
type CacheMeta struct {
	Layers int           `json:"layers"` // teacher depth + 1 (layer 0 is the embedding output)
	Tokens int           `json:"tokens"`
	Dim    int           `json:"dim"`
	Layout hidden.Layout `json:"layout"`
	// Source says where the states come from (teacher checkpoint, dataset, split); free text.
	Source string `json:"source,omitempty"`
}

// ChunkInfo is one chunk's manifest entry.
type ChunkInfo struct {
	File   string `json:"file"`
	Images int    `json:"images"`
	Bytes  int64  `json:"bytes"`
	Sum    string `json:"sum"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Format   string      `json:"format"`
	Meta     CacheMeta   `json:"meta"`
	DType    CacheDType  `json:"dtype"`
	Checksum Checksum    `json:"checksum"`
	Images   int         `json:"images"`
	Chunks   []ChunkInfo `json:"chunks"`
}

// CacheOptions configures a CacheWriter.
type CacheOptions struct {
	DType       CacheDType // default Float32
	Checksum    Checksum   // default SHA256
	ChunkImages int        // images per chunk (default 256)
}

// CacheWriter writes an activation cache.
type CacheWriter struct {
	dir      string
	opts     CacheOptions
	manifest Manifest
	pending  []float32
	labels   []int32
	closed   bool
}

// NewCacheWriter starts a cache in dir (created if needed). An existing manifest there is
// removed first, so a half-rewritten cache is never mistaken for a complete one.
func NewCacheWriter(dir string, meta CacheMeta, opts CacheOptions) (*CacheWriter, error) {
	if opts.DType == "" {
		opts.DType = Float32
	}
	if opts.Checksum == "" {
		opts.Checksum = SHA256
	}
	if opts.ChunkImages <= 0 {
		opts.ChunkImages = 256
	}
	if opts.DType != Float32 && opts.DType != Float16 {
		return nil, fmt.Errorf("activation cache %s: unknown dtype %q", dir, opts.DType)
	}
	if _, err := opts.Checksum.hasher(); err != nil {
		return nil, fmt.Errorf("activation cache %s: %w", dir, err)
	}
	if meta.Layers <= 0 || meta.Tokens <= 0 || meta.Dim <= 0 || meta.Tokens != meta.Layout.NumTokens() {
		return nil, fmt.Errorf("activation cache %s: bad shape %d layers × %d tokens × %d dim (layout has %d tokens)",
			dir, meta.Layers, meta.Tokens, meta.Dim, meta.Layout.NumTokens())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("activation cache: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("activation cache %s: %w", dir, err)
	}
	return &CacheWriter{dir: dir, opts: opts, manifest: Manifest{Format: cacheFormat, Meta: meta,
		DType: opts.DType, Checksum: opts.Checksum}}, nil
}

// Add appends a batch of states (its Layers, Tokens and Dim must match the cache) and the images'
// labels (len = b.Images; use -1 for unknown).
func (w *CacheWriter) Add(b *hidden.Batch, labels []int) error {
	m := w.manifest.Meta
	if w.closed {
		return fmt.Errorf("activation cache %s: Add after Close", w.dir)
	}
	if b.Layers != m.Layers || b.Tokens != m.Tokens || b.Dim != m.Dim {
		return fmt.Errorf("activation cache %s: batch is %d×%d×%d per image, cache is %d×%d×%d",
			w.dir, b.Layers, b.Tokens, b.Dim, m.Layers, m.Tokens, m.Dim)
	}
	if len(b.Data) != b.Images*b.Layers*b.Tokens*b.Dim || len(labels) != b.Images {
		return fmt.Errorf("activation cache %s: batch of %d images has %d values and %d labels", w.dir, b.Images, len(b.Data), len(labels))
	}
	per := m.Layers * m.Tokens * m.Dim
	for i := range b.Images {
		w.pending = append(w.pending, b.Data[i*per:(i+1)*per]...)
		w.labels = append(w.labels, int32(labels[i]))
		if len(w.labels) == w.opts.ChunkImages {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *CacheWriter) flush() error {
	n := len(w.labels)
	if n == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.Grow(4*n + len(w.pending)*w.opts.DType.size())
	for _, l := range w.labels {
		_ = binary.Write(&buf, binary.LittleEndian, l)
	}
	var word [4]byte
	for _, v := range w.pending {
		if w.opts.DType == Float16 {
			binary.LittleEndian.PutUint16(word[:2], float16.Fromfloat32(v).Bits())
			buf.Write(word[:2])
		} else {
			binary.LittleEndian.PutUint32(word[:], math.Float32bits(v))
			buf.Write(word[:])
		}
	}
	h, _ := w.opts.Checksum.hasher()
	h.Write(buf.Bytes())
	name := fmt.Sprintf("chunk-%05d.bin", len(w.manifest.Chunks))
	if err := writeFileAtomic(filepath.Join(w.dir, name), buf.Bytes()); err != nil {
		return fmt.Errorf("activation cache %s: %w", w.dir, err)
	}
	w.manifest.Chunks = append(w.manifest.Chunks, ChunkInfo{File: name, Images: n, Bytes: int64(buf.Len()),
		Sum: hex.EncodeToString(h.Sum(nil))})
	w.manifest.Images += n
	w.pending, w.labels = w.pending[:0], w.labels[:0]
	return nil
}

// Close writes the last chunk and the manifest.
func (w *CacheWriter) Close() error {
	if w.closed {
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	w.closed = true
	if w.manifest.Images == 0 {
		return fmt.Errorf("activation cache %s: no images written", w.dir)
	}
	js, err := json.MarshalIndent(w.manifest, "", " ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(w.dir, ManifestName), append(js, '\n')); err != nil {
		return fmt.Errorf("activation cache %s: %w", w.dir, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and renames it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil { // CreateTemp makes the file 0600; outputs are 0644 like every other file
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Cache reads an activation cache.
type Cache struct {
	Dir      string
	Manifest Manifest
	offsets  []int // first image index of each chunk
}

// OpenCache reads and checks dir's manifest (the chunks are checked when read).
func OpenCache(dir string) (*Cache, error) {
	path := filepath.Join(dir, ManifestName)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("activation cache: %w (was the cache completed?)", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("activation cache %s: %w", path, err)
	}
	if m.Format != cacheFormat {
		return nil, fmt.Errorf("activation cache %s: format %q, want %q", path, m.Format, cacheFormat)
	}
	if m.DType != Float32 && m.DType != Float16 {
		return nil, fmt.Errorf("activation cache %s: unknown dtype %q", path, m.DType)
	}
	if _, err := m.Checksum.hasher(); err != nil {
		return nil, fmt.Errorf("activation cache %s: %w", path, err)
	}
	c := &Cache{Dir: dir, Manifest: m}
	total := 0
	per := int64(m.Meta.Layers * m.Meta.Tokens * m.Meta.Dim * m.DType.size())
	for _, ch := range m.Chunks {
		if ch.Images <= 0 || ch.Bytes != int64(ch.Images)*(4+per) {
			return nil, fmt.Errorf("activation cache %s: chunk %s lists %d images in %d bytes, want %d bytes",
				path, ch.File, ch.Images, ch.Bytes, int64(ch.Images)*(4+per))
		}
		c.offsets = append(c.offsets, total)
		total += ch.Images
	}
	if total != m.Images || total == 0 {
		return nil, fmt.Errorf("activation cache %s: chunks hold %d images, manifest says %d", path, total, m.Images)
	}
	return c, nil
}

// Len is the number of images.
func (c *Cache) Len() int { return c.Manifest.Images }

// NumChunks is the number of chunks.
func (c *Cache) NumChunks() int { return len(c.Manifest.Chunks) }

// Meta returns the cache's shape and layout.
func (c *Cache) Meta() CacheMeta { return c.Manifest.Meta }

// ReadChunk reads chunk i, checks its size and checksum, and returns its states and labels. A
// missing, truncated or corrupt chunk is an error naming its file.
func (c *Cache) ReadChunk(i int) (*hidden.Batch, []int, error) {
	if i < 0 || i >= len(c.Manifest.Chunks) {
		return nil, nil, fmt.Errorf("activation cache %s: chunk %d outside 0..%d", c.Dir, i, len(c.Manifest.Chunks)-1)
	}
	info := c.Manifest.Chunks[i]
	path := filepath.Join(c.Dir, info.File)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("activation cache chunk %s: %w", path, err)
	}
	if int64(len(raw)) != info.Bytes {
		return nil, nil, fmt.Errorf("activation cache chunk %s: %d bytes, manifest says %d (truncated or replaced)", path, len(raw), info.Bytes)
	}
	h, _ := c.Manifest.Checksum.hasher()
	h.Write(raw)
	if got := hex.EncodeToString(h.Sum(nil)); got != info.Sum {
		return nil, nil, fmt.Errorf("activation cache chunk %s: %s checksum %s, manifest says %s (corrupt)", path, c.Manifest.Checksum, got, info.Sum)
	}
	m := c.Manifest.Meta
	n := info.Images
	labels := make([]int, n)
	for k := range n {
		labels[k] = int(int32(binary.LittleEndian.Uint32(raw[4*k:])))
	}
	body := raw[4*n:]
	b := &hidden.Batch{Images: n, Layers: m.Layers, Tokens: m.Tokens, Dim: m.Dim, Data: make([]float32, n*m.Layers*m.Tokens*m.Dim)}
	if c.Manifest.DType == Float16 {
		for k := range b.Data {
			b.Data[k] = float16.Frombits(binary.LittleEndian.Uint16(body[2*k:])).Float32()
		}
	} else {
		for k := range b.Data {
			b.Data[k] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*k:]))
		}
	}
	return b, labels, nil
}

// Each reads every chunk in order and calls fn with its states, labels and the index of its first
// image; it stops at the first error.
func (c *Cache) Each(fn func(b *hidden.Batch, labels []int, first int) error) error {
	for i := range c.Manifest.Chunks {
		b, labels, err := c.ReadChunk(i)
		if err != nil {
			return err
		}
		if err := fn(b, labels, c.offsets[i]); err != nil {
			return err
		}
	}
	return nil
}
