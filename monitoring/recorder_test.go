package monitoring_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/monitoring/monitoringtest"
)

// runKnownTasks runs, on a real kernel recording into a new database:
// task 0 succeeds, task 1 fails once and succeeds on its retry, task 2
// fails on every try, task 3 depends on 2 (dep_fail), task 4 depends on 0
// and succeeds. It returns the database's path, closed.
func runKnownTasks(t *testing.T, opts monitoring.Options) string {
	t.Helper()
	ctx := context.Background()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), monitoring.FileName)
	}
	opts.DefaultExecutor = "pool"
	rec, err := monitoring.NewRecorder(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	monitoringtest.RunKnownTasks(t, rec)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return opts.Path
}

func TestRecorderWritesKnownTasks(t *testing.T) {
	t.Parallel()
	path := runKnownTasks(t, monitoring.Options{WorkflowName: "known.star", RunDir: "runinfo/000"})
	db, err := monitoring.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	type taskRow struct {
		id                int
		app, status       string
		fails             int
		cost              float64
		depends           sql.NullString
		submitted, output sql.NullString
	}
	got := queryRows(t, db, `SELECT task_id, task_func_name, task_status_name, task_fail_count, task_fail_cost,
		task_depends, task_time_submitted, task_time_returned FROM task ORDER BY task_id`,
		func(rows *sql.Rows) (taskRow, error) {
			var r taskRow
			err := rows.Scan(&r.id, &r.app, &r.status, &r.fails, &r.cost, &r.depends, &r.submitted, &r.output)
			return r, err
		})
	want := []struct {
		app, status string
		fails       int
		depends     string
	}{
		{"good", "exec_done", 0, ""},
		{"flaky", "exec_done", 1, ""},
		{"bad", "failed", 2, ""},
		{"after_bad", "dep_fail", 0, "2"},
		{"after_good", "exec_done", 0, "0"},
	}
	if len(got) != len(want) {
		t.Fatalf("task rows = %d, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.id != i || g.app != w.app || g.status != w.status || g.fails != w.fails || g.cost != float64(w.fails) ||
			g.depends.String != w.depends || !g.submitted.Valid || !g.output.Valid {
			t.Errorf("task %d = %+v, want %+v", i, g, w)
		}
	}

	tries := queryRows(t, db, `SELECT task_id, try_id, task_try_status_name, task_executor,
		coalesce(task_fail_history, ''), task_try_time_launched IS NOT NULL AND task_try_time_returned IS NOT NULL
		FROM try ORDER BY task_id, try_id`,
		func(rows *sql.Rows) ([6]any, error) {
			var id, try int
			var status, executor, history string
			var timed bool
			err := rows.Scan(&id, &try, &status, &executor, &history, &timed)
			return [6]any{id, try, status, executor, history, timed}, err
		})
	wantTries := [][6]any{
		{0, 0, "exec_done", "pool", "", true},
		{1, 0, "failed", "pool", "first try fails", true},
		{1, 1, "exec_done", "pool", "", true},
		{2, 0, "failed", "pool", "always fails", true},
		{2, 1, "failed", "pool", "task 2 (bad): always fails", true},
		{4, 0, "exec_done", "pool", "", true},
	}
	if !reflect.DeepEqual(tries, wantTries) {
		t.Errorf("tries:\n got %v\nwant %v", tries, wantTries)
	}

	// Every transition, in order, per task.
	statuses := map[int][]string{}
	for _, r := range queryRows(t, db, `SELECT task_id, task_status_name || '/' || try_id FROM status ORDER BY task_id, timestamp`,
		func(rows *sql.Rows) ([2]any, error) {
			var id int
			var s string
			err := rows.Scan(&id, &s)
			return [2]any{id, s}, err
		}) {
		statuses[r[0].(int)] = append(statuses[r[0].(int)], r[1].(string))
	}
	wantStatus := map[int][]string{
		0: {"pending/0", "launched/0", "running/0", "exec_done/0"},
		1: {"pending/0", "launched/0", "running/0", "fail_retryable/0", "launched/1", "running/1", "exec_done/1"},
		2: {"pending/0", "launched/0", "running/0", "fail_retryable/0", "launched/1", "running/1", "failed/1"},
		3: {"pending/0", "dep_fail/0"},
		4: {"pending/0", "launched/0", "running/0", "exec_done/0"},
	}
	if !reflect.DeepEqual(statuses, wantStatus) {
		t.Errorf("status:\n got %v\nwant %v", statuses, wantStatus)
	}

	var name, rundir string
	var done, failed int
	var completed sql.NullString
	err = db.QueryRow(`SELECT workflow_name, rundir, tasks_completed_count, tasks_failed_count, time_completed FROM workflow`).
		Scan(&name, &rundir, &done, &failed, &completed)
	if err != nil {
		t.Fatal(err)
	}
	if name != "known.star" || rundir != "runinfo/000" || done != 3 || failed != 2 || !completed.Valid {
		t.Errorf("workflow = %q %q done=%d failed=%d completed=%v", name, rundir, done, failed, completed)
	}
}

// queryRows runs q and scans every row with scan.
func queryRows[T any](t *testing.T, db *sql.DB, q string, scan func(*sql.Rows) (T, error)) []T {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A Recorder keeps up with a burst larger than its backlog bound, and
// events after Close are dropped rather than blocking.
func TestRecorderBackpressureAndClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "x", FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const n = 150_000
	for i := range n {
		rec.TaskEvent(dfk.Event{ID: i, App: "a", State: dfk.Pending})
		rec.TaskEvent(dfk.Event{ID: i, App: "a", State: dfk.DepFail})
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rec.TaskEvent(dfk.Event{ID: n, App: "a", State: dfk.Pending})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tasks, statuses int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM status)`).Scan(&tasks, &statuses); err != nil {
		t.Fatal(err)
	}
	if tasks != n || statuses != 2*n {
		t.Errorf("tasks = %d, statuses = %d; want %d, %d", tasks, statuses, n, 2*n)
	}
}

// A task that runs longer than the flush interval is in the database
// while it runs, and its row is brought up to date when it ends.
func TestRecorderWritesLongTasksWhileTheyRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "pool", FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for _, s := range []dfk.State{dfk.Pending, dfk.Launched, dfk.Running} {
		rec.TaskEvent(dfk.Event{ID: 0, App: "long", State: s})
	}
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(time.Minute)
	for stateOf(t, db, 0) != "running" {
		if time.Now().After(deadline) {
			t.Fatal("a running task was not written within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec.TaskEvent(dfk.Event{ID: 0, App: "long", State: dfk.ExecDone})
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if s := stateOf(t, db, 0); s != "exec_done" {
		t.Errorf("after it ended, task 0 is %q", s)
	}
	got := queryRows(t, db, `SELECT task_status_name FROM status ORDER BY timestamp`, scanString)
	if want := []string{"pending", "launched", "running", "exec_done"}; !reflect.DeepEqual(got, want) {
		t.Errorf("status = %v, want %v", got, want)
	}
}

// stateOf reads a task's task_status_name, "" when it has no row.
func stateOf(t *testing.T, db *sql.DB, id int) string {
	t.Helper()
	var s string
	err := db.QueryRow(`SELECT task_status_name FROM task WHERE task_id = ?`, id).Scan(&s)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return s
}

func scanString(rows *sql.Rows) (string, error) {
	var s string
	err := rows.Scan(&s)
	return s, err
}

// The status view lists each kind of task's transitions in the kernel's
// order, with their try: a join app (joining), a memo hit (no try), a
// task failed by its dependency, and one retried after its worker was
// lost (which costs nothing).
func TestStatusView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	events := []dfk.Event{
		{ID: 0, App: "join", Kind: dfk.JoinApp, State: dfk.Pending},
		{ID: 1, App: "cached", State: dfk.Pending, Memo: true},
		{ID: 2, App: "after", State: dfk.Pending, Deps: []int{3}},
		{ID: 3, App: "lost", State: dfk.Pending},
		{ID: 0, State: dfk.Launched},
		{ID: 1, State: dfk.MemoDone},
		{ID: 0, State: dfk.Running},
		{ID: 3, State: dfk.Launched},
		{ID: 3, State: dfk.Running},
		{ID: 0, State: dfk.Joining},
		{ID: 3, State: dfk.Launched, Try: 1, Err: lostErr{}},
		{ID: 3, State: dfk.Running, Try: 1},
		{ID: 0, State: dfk.ExecDone},
		{ID: 3, State: dfk.Failed, Try: 1, Err: errors.New("boom")},
		{ID: 2, State: dfk.DepFail, Err: errors.New("task 3 failed")},
	}
	for i := range events {
		rec.TaskEvent(events[i])
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[int][]string{}
	for _, r := range queryRows(t, db, `SELECT task_id, task_status_name || '/' || try_id FROM status ORDER BY timestamp`,
		func(rows *sql.Rows) ([2]any, error) {
			var id int
			var s string
			err := rows.Scan(&id, &s)
			return [2]any{id, s}, err
		}) {
		got[r[0].(int)] = append(got[r[0].(int)], r[1].(string))
	}
	want := map[int][]string{
		0: {"pending/0", "launched/0", "running/0", "joining/0", "exec_done/0"},
		1: {"pending/0", "memo_done/0"},
		2: {"pending/0", "dep_fail/0"},
		3: {"pending/0", "launched/0", "running/0", "fail_retryable/0", "launched/1", "running/1", "failed/1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status:\n got %v\nwant %v", got, want)
	}
	var fails int
	var cost float64
	if err := db.QueryRow(`SELECT task_fail_count, task_fail_cost FROM task WHERE task_id = 3`).Scan(&fails, &cost); err != nil {
		t.Fatal(err)
	}
	if fails != 2 || cost != 1 {
		t.Errorf("task 3: fail count %d, cost %v; want 2 (lost, boom), cost 1 (the lost try is free)", fails, cost)
	}
	if n := queryRows(t, db, `SELECT count(*) FROM try WHERE task_id = 1`, scanString); n[0] != "0" {
		t.Errorf("the memo hit has %s try rows, want none", n[0])
	}
}

type lostErr struct{}

func (lostErr) Error() string      { return "worker lost" }
func (lostErr) ResourceLost() bool { return true }

// Runs sharing a database (a logging_endpoint) number their tasks from 0
// each: their rows stay apart, told by run_id.
func TestRecorderSharedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	var ids []string
	for range 2 {
		rec, err := monitoring.NewRecorder(ctx, monitoring.Options{Path: path, DefaultExecutor: "pool"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.RunID())
		for _, s := range []dfk.State{dfk.Pending, dfk.Launched, dfk.Running, dfk.ExecDone} {
			rec.TaskEvent(dfk.Event{ID: 0, App: "a", State: s})
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := monitoring.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := queryRows(t, db, `SELECT t.run_id || ' ' || count(DISTINCT t.task_id) || ' ' || count(DISTINCT y.try_id) || ' ' || count(*)
		FROM task t JOIN try y USING (run_id, task_id) JOIN status s USING (run_id, task_id) GROUP BY t.run_id ORDER BY t.run_id`, scanString)
	want := []string{ids[0] + " 1 1 4", ids[1] + " 1 1 4"}
	if ids[1] < ids[0] {
		want[0], want[1] = want[1], want[0]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("per run: %q, want %q", got, want)
	}
}

// A task id beyond what the keys hold stops the writes with an error
// rather than overwriting another task's row.
func TestRecorderTaskIDBeyondKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), monitoring.FileName)
	rec, err := monitoring.NewRecorder(context.Background(), monitoring.Options{Path: path, DefaultExecutor: "pool"})
	if err != nil {
		t.Fatal(err)
	}
	rec.TaskEvent(dfk.Event{ID: monitoring.MaxTasks, App: "a", State: dfk.Pending})
	rec.TaskEvent(dfk.Event{ID: monitoring.MaxTasks, App: "a", State: dfk.DepFail})
	if err := rec.Close(); err == nil || !strings.Contains(err.Error(), "fit the database's keys") {
		t.Errorf("Close = %v, want the id refused", err)
	}
}
