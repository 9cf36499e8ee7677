package dfk_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
)

func noop(context.Context, dfk.Env) (any, error) { return nil, nil }

// reportRate adds tasks/s over the timed part of the benchmark.
func reportRate(b *testing.B, tasks int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(tasks)/s, "tasks/s")
	}
}

// BenchmarkSubmitNoop submits b.N independent no-op tasks and waits for
// them all: the kernel's and the pool's per-task overhead.
func BenchmarkSubmitNoop(b *testing.B) {
	k := newKernel(b, runtime.NumCPU(), dfk.Config{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		k.Submit(dfk.Spec{App: "noop", Run: noop})
	}
	waitAll(b, k)
	b.StopTimer()
	reportRate(b, b.N)
}

// BenchmarkChain submits b.N tasks each depending on the one before:
// no parallelism, so it measures one task's path from its dependency's
// completion to its own.
func BenchmarkChain(b *testing.B) {
	k := newKernel(b, runtime.NumCPU(), dfk.Config{})
	b.ReportAllocs()
	b.ResetTimer()
	f := k.Submit(dfk.Spec{App: "link", Run: noop})
	for range b.N - 1 {
		f = k.Submit(dfk.Spec{App: "link", Deps: []*dfk.Future{f}, Run: noop})
	}
	waitAll(b, k)
	b.StopTimer()
	reportRate(b, b.N)
}

// BenchmarkFanIn: each op is 1,000 no-op tasks and one task depending on
// all of them.
func BenchmarkFanIn(b *testing.B) {
	const width = 1000
	k := newKernel(b, runtime.NumCPU(), dfk.Config{})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		deps := make([]*dfk.Future, width)
		for i := range deps {
			deps[i] = k.Submit(dfk.Spec{App: "leaf", Run: noop})
		}
		f := k.Submit(dfk.Spec{App: "sink", Deps: deps, Run: noop})
		if _, err := f.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N*(width+1))
}
