package scaling

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Target is what a Runner needs from an executor.
type Target interface {
	// Snapshot returns the executor's State, its blocks' states read with
	// one provider Status call.
	Snapshot(ctx context.Context) (State, error)
	// ScaleOut submits n blocks and returns how many it submitted and the
	// error that stopped the rest.
	ScaleOut(ctx context.Context, n int) (started int, err error)
	// ScaleIn cancels the blocks, in one provider Cancel call. Their
	// tasks in flight are the executor's to retry.
	ScaleIn(ctx context.Context, blockIDs []int) error
	// Fail is called on every tick where launches keep failing and no
	// block is alive; the executor fails its waiting tasks with err.
	Fail(err error)
}

// Runner ticks a Strategy and applies its decisions to a Target, from the
// goroutine that calls Run.
type Runner struct {
	Strategy *Strategy
	Target   Target
	// Period is Config(strategy_period=...); 0 means Parsl's 5 s.
	Period time.Duration
	// Wake, when set, makes a tick happen at once on each receive (e.g.
	// when tasks arrive and no block is up), without waiting for Period.
	// Give it a buffer of one and send without blocking, so that wakes
	// during a tick fold into one.
	Wake   <-chan struct{}
	Logger hclog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	lastPaused, lastFail string // logged when they change, not every tick
}

// Run ticks at once, then every Period and on every Wake, until ctx ends;
// it returns the context's cause. The executor runs it on a goroutine it
// owns and ends it by cancelling ctx before shutting its blocks down.
func (r *Runner) Run(ctx context.Context) error {
	if r.Logger == nil {
		r.Logger = hclog.NewNullLogger()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	period := r.Period
	if period <= 0 {
		period = 5 * time.Second
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		if ctx.Err() == nil {
			r.tick(ctx)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ticker.C:
		case <-r.Wake:
		}
	}
}

// tick takes one decision and applies it. After a failed launch it
// decides once more at once (the backoff holds launches back), so that a
// launch that cannot work reaches the executor's tasks without waiting a
// period.
func (r *Runner) tick(ctx context.Context) {
	for again := true; again; {
		again = false
		st, err := r.Target.Snapshot(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.Logger.Warn("cannot read the executor's state; not scaling this time", "error", err)
			}
			return
		}
		d := r.Strategy.Tick(r.Now(), st)
		r.report(d)
		if d.Fail != nil {
			r.Target.Fail(d.Fail)
		}
		if d.Start > 0 {
			r.Logger.Info("scaling out", "blocks", d.Start, "reason", d.Reason)
			n, err := r.Target.ScaleOut(ctx, d.Start)
			if err != nil && ctx.Err() == nil {
				r.Strategy.LaunchFailed(r.Now(), err)
				r.Logger.Warn("block launch failed", "started", n, "of", d.Start, "error", err)
				again = true
			}
		}
		if len(d.Cancel) > 0 {
			r.Logger.Info("scaling in", "blocks", d.Cancel, "reason", d.Reason)
			if err := r.Target.ScaleIn(ctx, d.Cancel); err != nil {
				r.Strategy.CancelFailed(d.Cancel)
				r.Logger.Warn("cancelling blocks failed", "blocks", d.Cancel, "error", err)
			}
		}
	}
}

// report logs the pause and the give-up once each time they change.
func (r *Runner) report(d Decision) {
	if d.Paused != r.lastPaused {
		if d.Paused != "" {
			r.Logger.Warn("scaling out paused", "reason", d.Paused)
		}
		r.lastPaused = d.Paused
	}
	fail := ""
	if d.Fail != nil {
		fail = d.Fail.Error()
	}
	if fail != r.lastFail {
		if fail != "" {
			r.Logger.Error("blocks cannot start; failing waiting tasks", "error", fail)
		}
		r.lastFail = fail
	}
}
