package htex

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/starflow-hpc/starflow/dfk"
)

var (
	benchWorkers  = flag.Int("htex.workers", 1000, "BenchmarkThousandWorkers: simulated worker connections")
	benchTasks    = flag.Int("htex.tasks", 1_000_000, "BenchmarkThousandWorkers: no-op tasks")
	benchPrefetch = flag.Int("htex.prefetch", 0, "BenchmarkThousandWorkers: prefetch_capacity")
)

// sharedCall encodes to the same Task every time and ignores the result:
// the cheapest Call there is, so the transport's cost shows.
type sharedCall struct{ task *Task }

func (c sharedCall) Encode() (*Task, error)          { return c.task, nil }
func (c sharedCall) Decode(res *Result) (any, error) { return nil, nil }

// checkedCall carries its index and counts results that come back with
// another: proof that no task was lost or crossed.
type checkedCall struct {
	n     int
	wrong *atomic.Int64
}

func (c checkedCall) Encode() (*Task, error) {
	return &Task{Kind: KindPython, App: "noop", Func: "noop", Args: binary.AppendUvarint(nil, uint64(c.n))}, nil
}

func (c checkedCall) Decode(res *Result) (any, error) {
	if res.Err != nil || !bytes.Equal(res.Value, binary.AppendUvarint(nil, uint64(c.n))) {
		c.wrong.Add(1)
	}
	return nil, nil
}

var noResult = &Result{}

// benchConfig is a run as a user would have it: default heartbeats, no log.
func benchConfig(b *testing.B, prefetch int) Config {
	return Config{Label: "bench", RunID: "bench", RunDir: b.TempDir(), Address: "127.0.0.1",
		PrefetchCapacity: prefetch, Logger: hclog.NewNullLogger()}
}

// BenchmarkDispatchNoop: one worker with 2 slots over loopback TLS, a
// runner that returns at once, tasks through a real kernel.
func BenchmarkDispatchNoop(b *testing.B) {
	for _, prefetch := range []int{0, 2, 64} {
		b.Run("prefetch="+strconv.Itoa(prefetch), func(b *testing.B) {
			f := newFixture(b, benchConfig(b, prefetch), 0)
			f.startWorker(b, f.workerConfig("0", 2), runnerFunc(func(context.Context, *Task, SlotEnv) *Result { return noResult }))
			eventually(b, "worker registered", func() bool { return len(f.e.Managers()) == 1 })
			spec := dfk.Spec{App: "noop", Kind: dfk.Python, Payload: sharedCall{&Task{App: "noop", Func: "noop"}}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				f.k.Submit(spec)
			}
			if err := f.k.WaitAll(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
			if c := f.k.Counts(); c.Failed != 0 {
				b.Fatalf("%d tasks failed", c.Failed)
			}
		})
	}
}

// BenchmarkThousandWorkers is the scale test: -htex.workers
// authenticated connections from another process, 4 slots each, serve
// -htex.tasks no-op tasks. It runs once whatever b.N is and reports
// tasks/s, the heap of this process once the workers are connected and
// its peak while the tasks run (interchange and kernel, which holds every
// pending task).
//
//	go test -run '^$' -bench ThousandWorkers -benchtime 1x ./executors/htex/
func BenchmarkThousandWorkers(b *testing.B) {
	workers, tasks := *benchWorkers, *benchTasks
	f := newFixture(b, benchConfig(b, *benchPrefetch), 0)
	f.startChild(b, f.workerConfig("sim", 4), workers)
	eventually(b, fmt.Sprintf("%d workers registered", workers), func() bool { return len(f.e.Managers()) == workers })
	runtime.GC()
	var connected runtime.MemStats
	runtime.ReadMemStats(&connected)

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()

	var wrong atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for i := range tasks {
		f.k.Submit(dfk.Spec{App: "noop", Kind: dfk.Python, Payload: checkedCall{n: i, wrong: &wrong}})
	}
	if err := f.k.WaitAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-sampled

	c := f.k.Counts()
	if c.Done != int64(tasks) || c.Failed != 0 || wrong.Load() != 0 {
		b.Fatalf("of %d tasks: %d done, %d failed, %d with a wrong result", tasks, c.Done, c.Failed, wrong.Load())
	}
	busy := 0
	for _, m := range f.e.Managers() {
		busy += m.InFlight
	}
	if busy != 0 {
		b.Fatalf("%d tasks still in flight after all finished", busy)
	}
	b.ReportMetric(float64(tasks)/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(connected.HeapAlloc)/(1<<20), "connected-heap-MiB")
	b.ReportMetric(float64(workers), "workers")
	b.ReportMetric(float64(tasks), "tasks")
}
