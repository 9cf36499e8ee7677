package web

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/monitoring/monitoringtest"
)

// TestRecordedRun shows a database written by the real recorder from a
// real kernel's events, rather than by this package's fixtures: task 0
// succeeds, task 1 fails once and succeeds on its retry, task 2 fails on
// both tries, task 3 depends on 2 (dep_fail), task 4 depends on 0. The
// dashboard is checked while the run is open and after it ended.
func TestRecordedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "000"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{
		Path: filepath.Join(root, "000", monitoring.FileName), RunDir: "runinfo/000",
		WorkflowName: "recorded.star", DefaultExecutor: "pool",
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			rec.Close()
		}
	}()
	monitoringtest.RunKnownTasks(t, rec)
	ts := newTestServer(t, root)

	// While the recorder is open, what it flushed so far shows (a run in
	// progress); the page is whole whatever that is.
	page(t, ts, "/runs/000/", 200)

	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	body := page(t, ts, "/runs/000/", 200)
	wantText(t, body, "Run 000 · recorded.star", "took", "5 tasks", "exec_done 3", "failed 1", "dep_fail 1",
		"6 tries", "1 task failed, and 1 more because a dependency did.", "bad failed after 2 failed tries", "always fails")
	if !regexp.MustCompile(`<rect class="try bad"`).MatchString(body) {
		t.Errorf("the timeline shows no failed try")
	}
	wantText(t, page(t, ts, "/runs/000/tasks?state=failed", 200), "1–1 of 1 task", "bad failed 2", "always fails")
	body = page(t, ts, "/runs/000/tasks/1", 200)
	wantText(t, body, "Task 1 · flaky exec_done", "failed tries 1", "first try fails")
	body = page(t, ts, "/runs/000/tasks/3", 200)
	wantText(t, body, "Task 3 · after_bad dep_fail", "Waits on: task 2 bad failed", "No try: the task never ran (a dependency failed).")
	wantText(t, page(t, ts, "/runs/000/tasks/0", 200), "Needed by: task 4 after_good exec_done")
}
