package dfk_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
)

func TestInterrupt(t *testing.T) {
	t.Parallel()
	// One slot, held by a task that runs until interrupted, so everything
	// else is still queued or pending when the interrupt comes.
	k := newKernel(t, 1, dfk.Config{Retries: 3})
	started := make(chan struct{})
	var blockerRuns, otherRuns atomic.Int32
	blocker := k.Submit(dfk.Spec{App: "block", Run: func(ctx context.Context, _ dfk.Env) (any, error) {
		if blockerRuns.Add(1) == 1 {
			close(started)
		}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}})
	joinStarted := make(chan struct{})
	join := k.Submit(dfk.Spec{App: "join", Kind: dfk.JoinApp, Run: func(ctx context.Context, _ dfk.Env) (any, error) {
		close(joinStarted)
		return blocker.Wait(ctx)
	}})
	<-started
	<-joinStarted
	count := func(context.Context, dfk.Env) (any, error) {
		otherRuns.Add(1)
		return nil, nil
	}
	var queued, dependents []*dfk.Future
	for range 1000 {
		queued = append(queued, k.Submit(dfk.Spec{App: "queued", Run: count}))
	}
	for range 100 {
		dependents = append(dependents, k.Submit(dfk.Spec{App: "dependent", Deps: []*dfk.Future{blocker}, Run: count}))
	}

	k.Interrupt(dfk.ErrInterrupted)
	waitAll(t, k)
	after := k.Submit(dfk.Spec{App: "after", Run: count})

	for _, f := range append(queued, blocker, join, after) {
		if _, err := outcome(t, f); !errors.Is(err, dfk.ErrInterrupted) || f.State() != dfk.Failed {
			t.Fatalf("task %d (%s): (%v, %v), want failed with ErrInterrupted", f.ID(), f.App(), f.State(), err)
		}
	}
	for _, f := range dependents {
		if _, err := outcome(t, f); f.State() != dfk.DepFail {
			t.Fatalf("dependent %d: (%v, %v), want dep_fail", f.ID(), f.State(), err)
		}
	}
	if n := otherRuns.Load(); n != 0 {
		t.Errorf("%d tasks ran after the interrupt", n)
	}
	if n := blockerRuns.Load(); n != 1 {
		t.Errorf("the interrupted task ran %d times; an interrupt is not retried", n)
	}
	if err := k.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if c := k.Counts(); c.Submitted != c.Failed || c.Waiting+c.Queued+c.Running+c.Done != 0 {
		t.Errorf("Counts = %+v, want every task failed", c)
	}
}

func TestInterruptByParentContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	k := newKernelCtx(t, ctx, 1, dfk.Config{})
	cancel(dfk.ErrInterrupted)
	f := k.Submit(dfk.Spec{App: "late", Run: returns(1)})
	if _, err := outcome(t, f); !errors.Is(err, dfk.ErrInterrupted) {
		t.Errorf("error = %v, want ErrInterrupted", err)
	}
	if err := context.Cause(k.Context()); !errors.Is(err, dfk.ErrInterrupted) {
		t.Errorf("Context cause = %v", err)
	}
}

func TestUnseen(t *testing.T) {
	t.Parallel()
	// Each case builds named tasks, observes some, and lists the failures
	// that must still be unseen.
	tests := []struct {
		name    string
		build   func(k *dfk.Kernel) map[string]*dfk.Future
		observe []string
		want    []string
	}{
		{"nothing observed", chainGraph, nil, []string{"root", "mid", "leaf", "other"}},
		{"leaf marks its causes", chainGraph, []string{"leaf"}, []string{"other"}},
		{"mid marks root only", chainGraph, []string{"mid"}, []string{"leaf", "other"}},
		{"root alone", chainGraph, []string{"root"}, []string{"mid", "leaf", "other"}},
		{"success observed", chainGraph, []string{"ok"}, []string{"root", "mid", "leaf", "other"}},
		{"everything", chainGraph, []string{"leaf", "other"}, nil},
		{"join list marks joined failures", joinGraph, []string{"list"}, []string{"single"}},
		{"join single is seen through its join", joinGraph, nil, []string{"a", "b", "list", "single"}},
		{"join single observed", joinGraph, []string{"single"}, []string{"a", "b", "list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{})
			tasks := tt.build(k)
			waitAll(t, k)
			for _, name := range tt.observe {
				tasks[name].Observe()
			}
			names := map[*dfk.Future]string{}
			for name, f := range tasks {
				names[f] = name
			}
			var got []string
			for _, f := range k.Unseen() {
				got = append(got, names[f])
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("Unseen = %v, want %v", got, want)
			}
		})
	}
}

func chainGraph(k *dfk.Kernel) map[string]*dfk.Future {
	root := k.Submit(dfk.Spec{App: "root", Run: raises(errBoom)})
	mid := k.Submit(dfk.Spec{App: "mid", Deps: []*dfk.Future{root}, Run: returns(1)})
	return map[string]*dfk.Future{
		"root":  root,
		"mid":   mid,
		"leaf":  k.Submit(dfk.Spec{App: "leaf", Deps: []*dfk.Future{mid, root}, Run: returns(1)}),
		"other": k.Submit(dfk.Spec{App: "other", Run: raises(errBoom)}),
		"ok":    k.Submit(dfk.Spec{App: "ok", Run: returns(1)}),
	}
}

func joinGraph(k *dfk.Kernel) map[string]*dfk.Future {
	a := k.Submit(dfk.Spec{App: "a", Run: raises(errBoom)})
	b := k.Submit(dfk.Spec{App: "b", Run: raises(errBoom)})
	c := k.Submit(dfk.Spec{App: "c", Run: raises(errBoom)})
	join := func(jn *dfk.Join) runFunc {
		return func(context.Context, dfk.Env) (any, error) { return jn, nil }
	}
	return map[string]*dfk.Future{
		"a": a, "b": b, "c": c,
		"list":   k.Submit(dfk.Spec{App: "list", Kind: dfk.JoinApp, Run: join(&dfk.Join{Futures: []*dfk.Future{a, b}, List: true})}),
		"single": k.Submit(dfk.Spec{App: "single", Kind: dfk.JoinApp, Run: join(&dfk.Join{Futures: []*dfk.Future{c}})}),
	}
}
