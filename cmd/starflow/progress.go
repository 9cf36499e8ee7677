package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
)

// isTerminal reports whether w is a terminal: the progress line is for
// people, never for pipes and files.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress draws one live line: done / running / pending / failed, tasks
// per second and elapsed time. It reads the kernels' counters on a timer,
// never from the tasks' hot path.
type progress struct {
	out   io.Writer
	mu    sync.Mutex // serialises the bar and script output
	bar   *progressbar.ProgressBar
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// barScale is the bar's fixed maximum: it shows done/submitted in
// thousandths. The task total grows while a script runs, and the library's
// bar finishes for good once it reaches its maximum, so the line keeps it
// just short of that until the run is over.
const barScale = 1000

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	p.bar = progressbar.NewOptions64(barScale,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(0),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionShowDescriptionAtLineEnd(),
		// Clear with "erase line" rather than a line of spaces, which
		// wraps when the terminal has been narrowed since.
		progressbar.OptionUseANSICodes(true),
	)
	return p
}

// Writer returns a writer for script output to w (the terminal's stdout or
// stderr) that clears the line first, so prints and the progress line do
// not garble each other.
func (p *progress) Writer(w io.Writer) io.Writer { return progressWriter{p, w} }

type progressWriter struct {
	p   *progress
	out io.Writer
}

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	_ = w.p.bar.Clear()
	return w.out.Write(b)
}

// Start redraws the line every 150 ms until Stop.
func (p *progress) Start(s *builtins.Session) {
	go func() {
		defer close(p.done)
		t := time.NewTicker(150 * time.Millisecond)
		defer t.Stop()
		var lastDone int64
		lastT := time.Now()
		rate := 0.0
		for {
			select {
			case <-p.stop:
				return
			case now := <-t.C:
				c := totals(s.Kernels())
				finished := c.Done + c.Failed
				if dt := now.Sub(lastT).Seconds(); dt > 0 {
					// Smooth the rate so the line does not flicker, from
					// the first measure rather than from zero.
					inst := float64(finished-lastDone) / dt
					if rate == 0 {
						rate = inst
					} else {
						rate = 0.7*rate + 0.3*inst
					}
				}
				lastDone, lastT = finished, now
				p.draw(c, rate, now.Sub(p.start))
			}
		}
	}()
}

func (p *progress) draw(c dfk.Counts, rate float64, elapsed time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.Submitted == 0 {
		return
	}
	_ = p.bar.Set64(min((c.Done+c.Failed)*barScale/c.Submitted, barScale-1))
	p.bar.Describe(statusText(c, rate, elapsed, p.room()))
}

// statusText is the part of the line after the bar, e.g.
// "136/400 done · 2 running · 262 pending · 0 failed · 45 tasks/s · 0:03",
// in fewer words when the terminal is narrow.
func statusText(c dfk.Counts, rate float64, elapsed time.Duration, room int) string {
	r := fmt.Sprintf("%.0f", rate)
	if rate < 10 {
		r = fmt.Sprintf("%.1f", rate)
	}
	pending := c.Waiting + c.Queued
	full := fmt.Sprintf("%d/%d done · %d running · %d pending · %d failed · %s tasks/s · %s",
		c.Done, c.Submitted, c.Running, pending, c.Failed, r, clock(elapsed))
	if utf8.RuneCountInString(full) <= room {
		return full
	}
	short := fmt.Sprintf("%d/%d done %d run %d wait %d fail %s/s %s",
		c.Done, c.Submitted, c.Running, pending, c.Failed, r, clock(elapsed))
	return clip(short, room)
}

// clock formats elapsed time as m:ss (h:mm:ss past an hour), a width that
// does not jump around as the run goes on.
func clock(d time.Duration) string {
	s := int(d.Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// room is how many columns the text after the bar may take: a line wider
// than the terminal wraps, and every redraw would then add a line. The bar
// itself shrinks to nothing before the text is cut.
func (p *progress) room() int {
	f, ok := p.out.(*os.File)
	if !ok {
		return 1 << 16
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 1 << 16
	}
	// The bar, at its narrowest, takes " 100% ||  "; one more column
	// keeps the cursor off the last one, where some terminals wrap.
	return w - len(" 100% ||  ") - 1
}

func clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}

// Stop removes the line.
func (p *progress) Stop() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Clear()
}

func totals(ks []*dfk.Kernel) dfk.Counts {
	var t dfk.Counts
	for _, k := range ks {
		c := k.Counts()
		t.Submitted += c.Submitted
		t.Waiting += c.Waiting
		t.Queued += c.Queued
		t.Running += c.Running
		t.Done += c.Done
		t.Failed += c.Failed
	}
	return t
}
