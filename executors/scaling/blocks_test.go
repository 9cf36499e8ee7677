package scaling_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/local"
)

// executor is the smallest Target over Blocks: a block's worker "joins"
// by touching a file, and every joined block is busy while tasks are
// outstanding.
type executor struct {
	*scaling.Blocks
	dir string

	mu          sync.Mutex
	outstanding int
	idleSince   time.Time
	last        []scaling.BlockStatus
	failures    []error
}

func (e *executor) joined(id int) bool {
	_, err := os.Stat(filepath.Join(e.dir, "joined."+strconv.Itoa(id)))
	return err == nil
}

func (e *executor) Snapshot(ctx context.Context) (scaling.State, error) {
	bs, err := e.Poll(ctx)
	if err != nil {
		return scaling.State{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.last = bs
	st := scaling.State{Outstanding: e.outstanding, SlotsPerBlock: 1}
	for _, b := range bs {
		blk := scaling.Block{ID: b.ID, State: b.Status.State, Message: b.Status.Message, Joined: e.joined(b.ID)}
		if blk.Joined && b.Status.State == providers.Running {
			blk.Workers = 1
			if e.outstanding > 0 {
				blk.Tasks = 1
			}
		}
		if blk.Tasks == 0 {
			blk.IdleSince = b.Submitted
			if e.idleSince.After(blk.IdleSince) {
				blk.IdleSince = e.idleSince
			}
		}
		st.Blocks = append(st.Blocks, blk)
	}
	return st, nil
}

func (e *executor) Fail(err error) {
	e.mu.Lock()
	e.failures = append(e.failures, err)
	e.mu.Unlock()
}

func (e *executor) setOutstanding(n int) {
	e.mu.Lock()
	e.outstanding = n
	if n == 0 {
		e.idleSince = time.Now()
	}
	e.mu.Unlock()
}

// running returns the ids of the blocks last seen running with a worker.
func (e *executor) running() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []int
	for _, b := range e.last {
		if b.Status.State == providers.Running && e.joined(b.ID) {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

func (e *executor) jobOf(id int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.last {
		if b.ID == id {
			return b.JobID
		}
	}
	return ""
}

// waitFor polls cond until it holds; the test's deadline bounds it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLocalBlocksScale runs the strategy against real local blocks: one
// at start, three under load, a killed block replaced, back to min_blocks
// once idle, and nothing left after Shutdown.
func TestLocalBlocksScale(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := local.Defaults()
	cfg.InitBlocks, cfg.MinBlocks, cfg.MaxBlocks = 1, 1, 3
	cfg.Launcher = launchers.NewSimple()
	cfg.Grace = 100 * time.Millisecond
	p, err := local.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &executor{dir: dir, Blocks: &scaling.Blocks{
		Provider: p, Label: "htex", Dir: filepath.Join(dir, "submit_scripts"),
		Command: func(id int) string { return fmt.Sprintf("touch %s/joined.%d; exec sleep 1000", dir, id) },
	}}
	s := scaling.New(scaling.Config{Kind: scaling.HtexAutoScale, Blocks: p.Settings(), MaxIdletime: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&scaling.Runner{Strategy: s, Target: e, Period: 20 * time.Millisecond}).Run(ctx) }()

	var pids []int // every block's leader, to check at the end
	waitFor(t, "init_blocks", func() bool { return len(e.running()) == 1 })

	e.setOutstanding(3)
	waitFor(t, "3 blocks under load", func() bool { return len(e.running()) == 3 })
	for _, id := range e.running() {
		pid, _ := strconv.Atoi(e.jobOf(id))
		pids = append(pids, pid)
	}

	victim := e.running()[1]
	leader, _ := strconv.Atoi(e.jobOf(victim))
	if err := syscall.Kill(-leader, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a replacement block", func() bool {
		ids := e.running()
		return len(ids) == 3 && !slices.Contains(ids, victim)
	})

	e.setOutstanding(0)
	waitFor(t, "min_blocks after max_idletime", func() bool { return len(e.running()) == 1 })

	cancel()
	<-done
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !isZombie(string(b)) {
			t.Errorf("block leader %d outlived Shutdown: %s", pid, b)
		}
	}
	if len(e.failures) > 0 {
		t.Errorf("Fail called: %v", e.failures)
	}
}

func isZombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}
