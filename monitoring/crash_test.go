package monitoring_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring"
)

// childEnv makes the test binary a recording process that never ends: the
// crash test kills it.
const childEnv = "STARFLOW_MONITORING_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		recordForever(path)
		return
	}
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary)) // built by starflowBinary (htex_run_test.go)
	}
	os.Exit(code)
}

// recordForever records tasks going pending → launched → running →
// exec_done, with batches committed every few milliseconds.
func recordForever(path string) {
	rec, err := monitoring.NewRecorder(context.Background(), monitoring.Options{
		Path: path, DefaultExecutor: "pool", FlushInterval: 5 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for id := 0; ; id++ {
		for _, s := range []dfk.State{dfk.Pending, dfk.Launched, dfk.Running, dfk.ExecDone} {
			rec.TaskEvent(dfk.Event{ID: id, App: "noop", State: s})
		}
		if id%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// A run killed with SIGKILL mid-write leaves a database that opens, passes
// SQLite's integrity check, and holds whole batches: every task it holds
// has all the transitions that came with it.
func TestKilledRunLeavesReadableDatabase(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts and kills a process")
	}
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once a few batches are in, while it keeps writing.
	deadline := time.Now().Add(2 * time.Minute)
	for tasks := 0; tasks < 2_000; tasks = countTasks(path) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the recording process wrote %d tasks in 2 minutes", tasks)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	ctx := context.Background()
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("open after kill -9: %v", err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	var tasks, done, statuses, partial int
	var completed *string
	err = db.QueryRow(`SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM task WHERE task_status_name = 'exec_done'),
		(SELECT count(*) FROM status),
		(SELECT count(*) FROM task t JOIN (SELECT task_id, count(*) AS n FROM status GROUP BY task_id) s
			USING (task_id) WHERE t.task_status_name = 'exec_done' AND s.n != 4),
		(SELECT time_completed FROM workflow)`).Scan(&tasks, &done, &statuses, &partial, &completed)
	if err != nil {
		t.Fatal(err)
	}
	if tasks < 2_000 || partial != 0 || completed != nil {
		t.Errorf("after kill -9: %d tasks (%d done), %d status rows, %d done tasks missing transitions, time_completed %v",
			tasks, done, statuses, partial, completed)
	}
}

// countTasks reads how many task rows the running writer committed.
func countTasks(path string) int {
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := monitoring.OpenReadOnly(context.Background(), path)
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	_ = db.QueryRow("SELECT count(*) FROM task").Scan(&n)
	return n
}
