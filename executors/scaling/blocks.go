package scaling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/starflow-hpc/starflow/providers"
)

// Blocks is an executor's book of blocks on one provider: it numbers
// them, submits them, reads all their states with one Status call and
// cancels many with one Cancel call. An executor's Target builds on it and
// adds what only the executor knows (workers connected, tasks in flight).
type Blocks struct {
	Provider providers.Provider
	Label    string // the executor's label: names the blocks' jobs and files
	Dir      string // the run's submit_scripts folder
	// Command returns the worker command for a block: it carries the
	// block id so that workers register with it.
	Command func(blockID int) string
	// TasksPerNode is the launcher's tasks_per_node (Parsl's HTEX: 1).
	TasksPerNode int
	// MinPollInterval is the least time between two provider Status
	// calls: a Poll sooner than that returns the states read last (with
	// the blocks submitted since as Pending). A scheduler's status command
	// (squeue) is shared by every user of the cluster; an executor woken
	// by every burst of tasks must not call it for each.
	MinPollInterval time.Duration
	// Resolve judges a block whose job the provider reports Gone (the
	// scheduler forgot it and cannot say how it ended): it returns the
	// block's final status. nil leaves such a block Unknown.
	Resolve func(blockID int, st providers.Status) providers.Status
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnStatus, when set, is told of each block's state as it changes:
	// Pending when it is submitted (or Failed, with no job id, when its
	// submission fails), then each new state a Poll, Shutdown or
	// WaitEnded reads; at is when that was seen. It runs on the caller's
	// goroutine, without Blocks' lock, and must not block: the
	// monitoring database records it as a block row.
	OnStatus func(at time.Time, b BlockStatus)

	mu       sync.Mutex
	next     int
	blocks   map[int]*entry
	lastPoll time.Time // of the last provider Status call; zero before
}

type entry struct {
	jobID     string
	status    providers.Status
	submitted time.Time
	reported  bool // a Poll returned the block in a terminal state
}

// BlockStatus is one block as Poll sees it.
type BlockStatus struct {
	ID        int
	JobID     string
	Status    providers.Status
	Submitted time.Time
}

func (b *Blocks) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// ScaleOut submits n blocks, one after another, and stops at the first
// failure: it returns how many it submitted and that failure.
func (b *Blocks) ScaleOut(ctx context.Context, n int) (int, error) {
	for i := range n {
		b.mu.Lock()
		id := b.next
		b.next++
		b.mu.Unlock()
		jobID, err := b.Provider.Submit(ctx, providers.Block{
			ID: id, Label: b.Label, Command: b.Command(id), TasksPerNode: b.TasksPerNode, Dir: b.Dir,
		})
		if err != nil {
			// As Parsl records a block that failed to start.
			b.report([]BlockStatus{{ID: id, Status: providers.Status{State: providers.Failed, Message: err.Error()}}})
			return i, err
		}
		e := &entry{jobID: jobID, status: providers.Status{State: providers.Pending}, submitted: b.now()}
		b.mu.Lock()
		if b.blocks == nil {
			b.blocks = make(map[int]*entry)
		}
		b.blocks[id] = e
		b.mu.Unlock()
		b.report([]BlockStatus{{ID: id, JobID: jobID, Status: e.status, Submitted: e.submitted}})
	}
	return n, nil
}

// set gives block id the status s and appends it to changed if its state
// is new; b.mu is held.
func (b *Blocks) set(id int, e *entry, s providers.Status, changed []BlockStatus) []BlockStatus {
	old := e.status.State
	e.status = s
	if b.OnStatus != nil && s.State != old {
		changed = append(changed, BlockStatus{ID: id, JobID: e.jobID, Status: s, Submitted: e.submitted})
	}
	return changed
}

// report tells OnStatus about changed; b.mu is not held.
func (b *Blocks) report(changed []BlockStatus) {
	if b.OnStatus == nil || len(changed) == 0 {
		return
	}
	at := b.now()
	for _, c := range changed {
		b.OnStatus(at, c)
	}
}

// Poll asks the provider for the state of every block that has not ended,
// in one Status call (at most one per MinPollInterval), and returns all
// blocks. A block that ended is returned by one Poll and then forgotten.
func (b *Blocks) Poll(ctx context.Context) ([]BlockStatus, error) {
	now := b.now()
	b.mu.Lock()
	for id, e := range b.blocks {
		if e.reported {
			delete(b.blocks, id)
		}
	}
	var ids []string
	fresh := b.lastPoll.IsZero() || now.Sub(b.lastPoll) >= b.MinPollInterval
	if fresh {
		ids = b.liveJobsLocked(ids)
		if len(ids) > 0 {
			b.lastPoll = now
		}
	}
	b.mu.Unlock()
	var st map[string]providers.Status
	var err error
	if len(ids) > 0 {
		st, err = b.Provider.Status(ctx, ids)
	}
	var changed []BlockStatus
	b.mu.Lock()
	out := make([]BlockStatus, 0, len(b.blocks))
	for id, e := range b.blocks {
		if s, ok := st[e.jobID]; ok && !e.status.State.Terminal() {
			if s.Gone && b.Resolve != nil {
				s = b.Resolve(id, s)
			}
			changed = b.set(id, e, s, changed)
		} else if err != nil && !e.status.State.Terminal() {
			changed = b.set(id, e, providers.Status{State: providers.Unknown, Message: err.Error()}, changed)
		}
		e.reported = e.status.State.Terminal()
		out = append(out, BlockStatus{ID: id, JobID: e.jobID, Status: e.status, Submitted: e.submitted})
	}
	b.mu.Unlock()
	b.report(changed)
	slices.SortFunc(out, func(x, y BlockStatus) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
}

// JobID is the provider's id of block id's job; "" for a block that is
// not (or no longer) known.
func (b *Blocks) JobID(id int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.blocks[id]; e != nil {
		return e.jobID
	}
	return ""
}

// ScaleIn cancels the blocks in one provider call. Unknown ids are
// ignored.
func (b *Blocks) ScaleIn(ctx context.Context, ids []int) error {
	b.mu.Lock()
	var jobIDs []string
	for _, id := range ids {
		if e := b.blocks[id]; e != nil && !e.status.State.Terminal() {
			jobIDs = append(jobIDs, e.jobID)
		}
	}
	b.mu.Unlock()
	if len(jobIDs) == 0 {
		return nil
	}
	if err := b.Provider.Cancel(ctx, jobIDs); err != nil {
		return fmt.Errorf("cancel blocks %v: %w", ids, err)
	}
	return nil
}

// Shutdown cancels every block that has not ended and, when the provider
// holds processes of its own (io.Closer), closes it, so that nothing the
// executor started is left behind.
func (b *Blocks) Shutdown(ctx context.Context) error {
	jobIDs := b.liveJobs()
	var errs []error
	if len(jobIDs) > 0 {
		if err := b.Provider.Cancel(ctx, jobIDs); err != nil {
			errs = append(errs, fmt.Errorf("cancel blocks at shutdown: %w", err))
		}
		if b.OnStatus != nil {
			// One last read, while the provider is open, so that the
			// blocks' endings are recorded: a local block has ended by
			// now, and WaitEnded sees a scheduler's blocks end.
			b.readStates(ctx, false)
		}
	}
	if c, ok := b.Provider.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// WaitEnded polls the provider, every interval and without regard to
// MinPollInterval, until no block is left that has not ended, or ctx ends.
// Shutdown calls it after cancelling, so that the scheduler no longer
// lists the executor's jobs when it returns.
func (b *Blocks) WaitEnded(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ids := b.liveJobs()
		if len(ids) == 0 {
			return nil
		}
		b.readStates(ctx, true)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d blocks not seen ending: %w", len(ids), context.Cause(ctx))
		case <-t.C:
		}
	}
}

// readStates reads the state of every block that has not ended, in one
// Status call, and records the endings: WaitEnded's step, which takes a
// job the scheduler forgot (Gone) for ended, and Shutdown's last look,
// which records any state that changed.
func (b *Blocks) readStates(ctx context.Context, endingsOnly bool) {
	ids := b.liveJobs()
	if len(ids) == 0 {
		return
	}
	st, err := b.Provider.Status(ctx, ids)
	if err != nil {
		return
	}
	var changed []BlockStatus
	b.mu.Lock()
	for id, e := range b.blocks {
		s, ok := st[e.jobID]
		if !ok || e.status.State.Terminal() {
			continue
		}
		if s.Gone {
			// The scheduler no longer lists it: it has ended, whatever
			// Resolve makes of how.
			if b.Resolve != nil {
				s = b.Resolve(id, s)
			}
			if !s.State.Terminal() {
				s.State = providers.Lost
			}
		}
		if s.State.Terminal() || !endingsOnly {
			changed = b.set(id, e, s, changed)
		}
	}
	b.mu.Unlock()
	b.report(changed)
}

// liveJobs lists the job ids of the blocks that have not ended.
func (b *Blocks) liveJobs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.liveJobsLocked(nil)
}

// liveJobsLocked appends the job ids of the blocks that have not ended
// to ids; b.mu is held.
func (b *Blocks) liveJobsLocked(ids []string) []string {
	for _, e := range b.blocks {
		if !e.status.State.Terminal() {
			ids = append(ids, e.jobID)
		}
	}
	return ids
}
