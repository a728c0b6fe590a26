package train

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress prints a one-line status: a bar, step/total, loss, step/s, img/s and ETA. On a
// terminal the line is redrawn in place; elsewhere (notebooks, logs) a new line is printed at most
// every few seconds, so outputs stay short.
type progress struct {
	w           io.Writer
	name        string
	total       int
	start       int
	began       time.Time
	lastPrint   time.Time
	interactive bool
	imgPerStep  int
}

func newProgress(w io.Writer, name string, start, total, imgPerStep int) *progress {
	if w == nil {
		w = os.Stderr
	}
	interactive := false
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			interactive = true
		}
	}
	return &progress{w: w, name: name, total: total, start: start, began: time.Now(), interactive: interactive, imgPerStep: imgPerStep}
}

func (p *progress) update(step int, loss float64, force bool) {
	now := time.Now()
	if !force && !p.interactive && now.Sub(p.lastPrint) < 5*time.Second {
		return
	}
	p.lastPrint = now
	done := step - p.start
	elapsed := now.Sub(p.began).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-step)/rate) * time.Second).Round(time.Second).String()
	}
	const width = 20
	filled := width * step / max(p.total, 1)
	bar := strings.Repeat("█", filled) + strings.Repeat("·", width-filled)
	line := fmt.Sprintf("%s %s %d/%d loss %.4f %.2f step/s", p.name, bar, step, p.total, loss, rate)
	if p.imgPerStep > 0 {
		line += fmt.Sprintf(" %.1f img/s", rate*float64(p.imgPerStep))
	}
	line += " ETA " + eta
	if p.interactive {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		if force {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}
