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
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	next   int
	blocks map[int]*entry
}

type entry struct {
	jobID     string
	status    providers.Status
	submitted time.Time
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
// in one Status call, and returns all blocks. A block that ended is
// returned by one Poll and then forgotten.
func (b *Blocks) Poll(ctx context.Context) ([]BlockStatus, error) {
	b.mu.Lock()
	var ids []string
	for _, e := range b.blocks {
		if !e.status.State.Terminal() {
			ids = append(ids, e.jobID)
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
		if e.status.State.Terminal() {
			delete(b.blocks, id) // reported by the previous Poll
			continue
		}
		if s, ok := st[e.jobID]; ok {
			e.status = s
		} else if err != nil {
			e.status = providers.Status{State: providers.Unknown, Message: err.Error()}
		}
		out = append(out, BlockStatus{ID: id, JobID: e.jobID, Status: e.status, Submitted: e.submitted})
	}
	slices.SortFunc(out, func(x, y BlockStatus) int { return cmp.Compare(x.ID, y.ID) })
	return out, err
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
