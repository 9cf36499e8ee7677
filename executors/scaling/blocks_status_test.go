package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/local"
)

// refusing is a provider whose submissions fail once refuse is set.
type refusing struct {
	providers.Provider
	refuse bool
}

func (p *refusing) Submit(ctx context.Context, b providers.Block) (string, error) {
	if p.refuse {
		return "", errors.New("sbatch: error: invalid partition")
	}
	return p.Provider.Submit(ctx, b)
}

func (p *refusing) Close() error { return p.Provider.(*local.Provider).Close() }

// statusLog keeps what OnStatus was told, as "STATE job|- BLOCK".
type statusLog struct {
	mu   sync.Mutex
	seen []string
	jobs map[int]string
}

func (l *statusLog) record(at time.Time, b scaling.BlockStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	job := "-"
	if b.JobID != "" {
		job = "job"
	}
	if at.IsZero() {
		job += " at no time"
	}
	l.seen = append(l.seen, fmt.Sprintf("%v %s %d", b.Status.State, job, b.ID))
}

func (l *statusLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.seen
	l.seen = nil
	return out
}

// TestBlocksReportStatusChanges: OnStatus hears of each block once per
// state, from its submission (or failed submission) to the ending that
// Poll or Shutdown reads, with its job id.
func TestBlocksReportStatusChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := local.Defaults()
	cfg.Launcher = launchers.NewSimple()
	cfg.Grace = 100 * time.Millisecond
	lp, err := local.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &refusing{Provider: lp}
	log := &statusLog{}
	b := &scaling.Blocks{Provider: p, Label: "htex", Dir: filepath.Join(dir, "submit_scripts"),
		Command: func(id int) string {
			if id == 0 {
				return "exit 0" // ends on its own
			}
			return "exec sleep 1000"
		},
		OnStatus: log.record}
	ctx := t.Context()
	if n, err := b.ScaleOut(ctx, 2); n != 2 || err != nil {
		t.Fatalf("ScaleOut = %d, %v", n, err)
	}
	if got, want := log.take(), []string{"PENDING job 0", "PENDING job 1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after ScaleOut: %q, want %q", got, want)
	}
	p.refuse = true
	if n, err := b.ScaleOut(ctx, 1); n != 0 || err == nil {
		t.Fatalf("ScaleOut with a refusing provider = %d, %v", n, err)
	}
	if got, want := log.take(), []string{"FAILED - 2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a failed submission: %q, want %q", got, want)
	}

	// Block 0 runs and completes, block 1 runs; each state is told once
	// however many polls see it.
	var seen []string
	waitFor(t, "block 0 to complete", func() bool {
		if _, err := b.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, log.take()...)
		return len(seen) > 0 && seen[len(seen)-1] == "COMPLETED job 0"
	})
	for _, s := range seen {
		switch s {
		case "RUNNING job 0", "COMPLETING job 0", "COMPLETED job 0", "RUNNING job 1":
		default:
			t.Errorf("poll told %q", s)
		}
	}
	if _, err := b.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("a poll with no change told %q", got)
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := log.take(), []string{"CANCELLED job 1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after Shutdown: %q, want %q", got, want)
	}
}
