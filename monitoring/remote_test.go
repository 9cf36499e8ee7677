package monitoring_test

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/threadpool"
	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// memTable is an in-memory dfk.Memoizer.
type memTable struct {
	mu sync.Mutex
	m  map[dfk.Key]any
}

func (m *memTable) Lookup(_ context.Context, key dfk.Key, _ string) (any, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	return v, ok
}

func (m *memTable) Record(key dfk.Key, _ string, value any, done func()) {
	m.mu.Lock()
	m.m[key] = value
	m.mu.Unlock()
	done()
}

// TestTaskColumnsFromSpecs: a memoized task's key is its task_hashsum,
// whether it ran or hit, and also when its row was written once before
// the key was known; a bash app's log files are its task_stdout and
// task_stderr. Tasks without them keep NULL there.
func TestTaskColumnsFromSpecs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "pool",
		FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := threadpool.New("pool", 2)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dfk.New(ctx, dfk.Config{Executors: []dfk.Executor{pool}, Observer: rec,
		Memo: &memTable{m: map[dfk.Key]any{}}})
	if err != nil {
		t.Fatal(err)
	}
	key := dfk.Key{1, 2, 3}
	keyOf := func() (dfk.Key, error) { return key, nil }
	release := make(chan struct{})
	ok := func(context.Context, dfk.Env) (any, error) { return 1, nil }

	// Task 0 waits on a gate long enough to be written once without its
	// key; task 1 runs and records the key, task 2 hits it.
	gate := k.Submit(dfk.Spec{App: "gate", Run: func(context.Context, dfk.Env) (any, error) {
		<-release
		return 0, nil
	}})
	ran := k.Submit(dfk.Spec{App: "cached", Deps: []*dfk.Future{gate}, Key: keyOf, Run: ok})
	// Several flush intervals: ran's row is most likely written once
	// without its key (the test passes either way, covering less).
	time.Sleep(50 * time.Millisecond)
	close(release)
	if _, err := ran.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	k.Submit(dfk.Spec{App: "cached", Key: keyOf, Run: ok})
	k.Submit(dfk.Spec{App: "sh", Kind: dfk.Bash, Run: ok,
		Logs: func(id int) (string, string) { return "out." + strconv.Itoa(id), "" }})
	if err := k.WaitAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := queryRows(t, db, `SELECT task_func_name || ' ' || task_status_name || ' ' || COALESCE(task_hashsum, '-') || ' ' ||
		COALESCE(task_stdout, '-') || ' ' || COALESCE(task_stderr, '-') FROM task ORDER BY task_id`, scanString)
	hash := hex.EncodeToString(key[:])
	want := []string{"gate exec_done - - -", "cached exec_done " + hash + " - -", "cached memo_done " + hash + " - -",
		"sh exec_done - out.3 -"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tasks:\n%q\nwant\n%q", got, want)
	}
}

// TestRemoteRowsAsGiven: samples from workers, block states and worker
// nodes become resource, block and node rows as they were given.
func TestRemoteRowsAsGiven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "htex",
		Resources: true, ResourceInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 3, 4, 5, 123456000, time.Local)
	rec.RemoteSamples([]monitoring.Sample{
		{Task: 7, Try: 1, At: at, PID: 4242, CPUPercent: 50, MemoryPercent: 1.5,
			Usage: procstat.Usage{User: 1.5, System: 0.25, RSS: 1 << 20, VSize: 1 << 30, Read: 4096, Write: 512, Procs: 3, Status: "running", OK: true}},
		{Task: 7, Try: 1, At: at.Add(time.Second), PID: 4242, CPUPercent: -1, MemoryPercent: -1,
			Usage: procstat.Usage{Procs: 1, OK: true}},
	})
	rec.BlockStatus(monitoring.BlockEvent{Executor: "htex", Block: "0", JobID: "4711", Status: "PENDING", At: at})
	rec.BlockStatus(monitoring.BlockEvent{Executor: "htex", Block: "1", Status: "FAILED", At: at})
	rec.NodeStatus(monitoring.NodeEvent{Host: "n1", UID: "3", Block: "0", Cores: 8, Memory: 1 << 34, Workers: 4, Active: true, At: at})
	rec.NodeStatus(monitoring.NodeEvent{Host: "n1", UID: "3", Block: "0", Workers: 4, At: at.Add(time.Minute)})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	resources := queryRows(t, db, `SELECT task_id || ' ' || try_id || ' ' || timestamp || ' ' || psutil_process_pid || ' ' ||
		COALESCE(psutil_process_cpu_percent, '-') || ' ' || COALESCE(psutil_process_memory_percent, '-') || ' ' ||
		COALESCE(psutil_process_children_count, '-') || ' ' || psutil_process_time_user || ' ' || psutil_process_time_system || ' ' ||
		COALESCE(psutil_process_memory_resident, '-') || ' ' || COALESCE(psutil_process_memory_virtual, '-') || ' ' ||
		psutil_process_disk_read || ' ' || psutil_process_disk_write || ' ' || COALESCE(psutil_process_status, '-') || ' ' ||
		resource_monitoring_interval FROM resource ORDER BY timestamp`, scanString)
	want := []string{
		"7 1 2026-11-25 03:04:05.123456 4242 50.0 1.5 2.0 1.5 0.25 1048576.0 1073741824.0 4096.0 512.0 running 3600.0",
		"7 1 2026-11-25 03:04:06.123456 4242 - - 0.0 0.0 0.0 - - 0.0 0.0 - 3600.0",
	}
	if !reflect.DeepEqual(resources, want) {
		t.Errorf("resource rows:\n%q\nwant\n%q", resources, want)
	}
	blocks := queryRows(t, db, `SELECT executor_label || ' ' || block_id || ' ' || COALESCE(job_id, '-') || ' ' || status FROM block ORDER BY block_id`, scanString)
	if want := []string{"htex 0 4711 PENDING", "htex 1 - FAILED"}; !reflect.DeepEqual(blocks, want) {
		t.Errorf("block rows = %q, want %q", blocks, want)
	}
	nodes := queryRows(t, db, `SELECT hostname || ' ' || uid || ' ' || block_id || ' ' || COALESCE(cpu_count, '-') || ' ' ||
		COALESCE(total_memory, '-') || ' ' || worker_count || ' ' || active FROM node ORDER BY id`, scanString)
	if want := []string{"n1 3 0 8 17179869184 4 1", "n1 3 0 - - 4 0"}; !reflect.DeepEqual(nodes, want) {
		t.Errorf("node rows = %q, want %q", nodes, want)
	}
}
