package monitoring_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring"
)

// BenchmarkRecorder100k records 100,000 tasks going pending → launched →
// running → exec_done and closes the database: what monitoring adds to
// the no-op benchmark, without the kernel.
func BenchmarkRecorder100k(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		path := filepath.Join(b.TempDir(), monitoring.FileName)
		rec, err := monitoring.NewRecorder(context.Background(), monitoring.Options{Path: path, DefaultExecutor: "threads"})
		if err != nil {
			b.Fatal(err)
		}
		for id := range n {
			for _, s := range []dfk.State{dfk.Pending, dfk.Launched, dfk.Running, dfk.ExecDone} {
				rec.TaskEvent(dfk.Event{ID: id, App: "noop", State: s})
			}
		}
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}
