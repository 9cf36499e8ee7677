package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

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

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionSetPredictTime(false),
	)
	return p
}

// Writer returns a writer for script output that clears the line first,
// so prints and the progress line do not garble each other.
func (p *progress) Writer() io.Writer { return progressWriter{p} }

type progressWriter struct{ p *progress }

func (w progressWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	_ = w.p.bar.Clear()
	return w.p.out.Write(b)
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
					// Smooth the rate so the line does not flicker.
					inst := float64(finished-lastDone) / dt
					rate = 0.7*rate + 0.3*inst
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
	p.bar.ChangeMax64(c.Submitted)
	_ = p.bar.Set64(c.Done + c.Failed)
	p.bar.Describe(fmt.Sprintf("%d done · %d running · %d pending · %d failed · %.0f tasks/s · %s",
		c.Done, c.Running, c.Waiting+c.Queued, c.Failed, rate, elapsed.Truncate(100*time.Millisecond)))
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
