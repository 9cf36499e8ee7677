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
			return i, err
		}
		b.mu.Lock()
		if b.blocks == nil {
			b.blocks = make(map[int]*entry)
		}
		b.blocks[id] = &entry{jobID: jobID, status: providers.Status{State: providers.Pending}, submitted: b.now()}
		b.mu.Unlock()
	}
	return n, nil
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
		for _, e := range b.blocks {
			if !e.status.State.Terminal() {
				ids = append(ids, e.jobID)
			}
		}
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
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BlockStatus, 0, len(b.blocks))
	for id, e := range b.blocks {
		if s, ok := st[e.jobID]; ok && !e.status.State.Terminal() {
			if s.Gone && b.Resolve != nil {
				s = b.Resolve(id, s)
			}
			e.status = s
		} else if err != nil && !e.status.State.Terminal() {
			e.status = providers.Status{State: providers.Unknown, Message: err.Error()}
		}
		e.reported = e.status.State.Terminal()
		out = append(out, BlockStatus{ID: id, JobID: e.jobID, Status: e.status, Submitted: e.submitted})
	}
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
	b.mu.Lock()
	var jobIDs []string
	for _, e := range b.blocks {
		if !e.status.State.Terminal() {
			jobIDs = append(jobIDs, e.jobID)
		}
	}
	b.mu.Unlock()
	var errs []error
	if len(jobIDs) > 0 {
		if err := b.Provider.Cancel(ctx, jobIDs); err != nil {
			errs = append(errs, fmt.Errorf("cancel blocks at shutdown: %w", err))
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
		b.mu.Lock()
		var ids []string
		for _, e := range b.blocks {
			if !e.status.State.Terminal() {
				ids = append(ids, e.jobID)
			}
		}
		b.mu.Unlock()
		if len(ids) == 0 {
			return nil
		}
		st, err := b.Provider.Status(ctx, ids)
		if err == nil {
			b.mu.Lock()
			for id, e := range b.blocks {
				s, ok := st[e.jobID]
				if !ok || e.status.State.Terminal() {
					continue
				}
				if s.Gone {
					// The scheduler no longer lists it: it has ended,
					// whatever Resolve makes of how.
					if b.Resolve != nil {
						s = b.Resolve(id, s)
					}
					if !s.State.Terminal() {
						s.State = providers.Lost
					}
				}
				if s.State.Terminal() {
					e.status = s
				}
			}
			b.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d blocks not seen ending: %w", len(ids), context.Cause(ctx))
		case <-t.C:
		}
	}
}
