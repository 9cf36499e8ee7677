package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/starflow-hpc/starflow/monitoring"
)

// A database may hold several runs (a shared logging_endpoint); the
// dashboard shows the newest, and its queries keep to that run's range of
// task_key and try_key (monitoring.TaskKey), which SQLite reads as a range
// of rowids: the filter costs nothing.

// secs is the SQL expression for a timestamp column in seconds. Columns hold
// local wall-clock text (monitoring.TimeLayout); only differences are ever
// used, so reading them as UTC is harmless. julianday() would be simpler,
// but a day number as a double keeps only ~40 µs, and no-op tasks take
// less than that: whole seconds plus the text's own fraction keep the
// microseconds.
func secs(col string) string { return "(unixepoch(" + col + ") + substr(" + col + ", 20))" }

// elapsed is the SQL expression for the seconds from column a to b.
func elapsed(a, b string) string { return "(" + secs(b) + " - " + secs(a) + ")" }

// runSummary is the workflow row and the shape of its tasks.
type runSummary struct {
	ID        string // the runinfo folder name
	RunID     string // workflow.run_id
	Key       int64  // starflow_run.run_key: the high bits of its task_key and try_key
	Name      string // workflow_name: the script, unless the user named it
	Began     time.Time
	Completed time.Time // zero while running or after a crash
	Host      string
	User      string
	RunDir    string
	Counts    stateCounts
	// T0 and T1 bound the run's time axis, in secs() units.
	T0, T1 float64
}

// Running says the run has not recorded its end (still going, or crashed).
func (r *runSummary) Running() bool { return r.Completed.IsZero() }

// Duration is the run's wall time so far.
func (r *runSummary) Duration() time.Duration {
	return time.Duration((r.T1 - r.T0) * float64(time.Second))
}

// taskKeys is the run's range of task.task_key, for queries to filter on:
// a database may hold other runs (a shared logging_endpoint).
func (r *runSummary) taskKeys() (lo, hi int64) {
	lo = monitoring.TaskKey(r.Key, 0)
	return lo, lo + monitoring.MaxTasks - 1
}

// tryKeys is the run's range of try.try_key.
func (r *runSummary) tryKeys() (lo, hi int64) {
	lo, hi = r.taskKeys()
	return monitoring.TryKey(lo, 0), monitoring.TryKey(hi, monitoring.MaxTries-1)
}

// taskKey is the task_key of the run's task id.
func (r *runSummary) taskKey(id int64) int64 { return monitoring.TaskKey(r.Key, id) }

var errNoWorkflow = errors.New("the database has no workflow row yet")

// loadRun reads the workflow row and the run's time span.
func loadRun(ctx context.Context, db *sql.DB, id string) (*runSummary, error) {
	r := &runSummary{ID: id}
	var name, began, completed, host, user, dir sql.NullString
	// A run's database has one workflow row; should it have more, the
	// newest is the run this folder holds. A run without a starflow_run
	// row (a database made by hand) is taken to be the first.
	err := db.QueryRowContext(ctx, `SELECT w.run_id, COALESCE(k.run_key, 0), workflow_name, time_began, time_completed,
		host, user, rundir, `+secs("time_began")+`, COALESCE(`+secs("time_completed")+`, `+secs("time_began")+`)
		FROM workflow w LEFT JOIN starflow_run k USING (run_id) ORDER BY time_began DESC LIMIT 1`).
		Scan(&r.RunID, &r.Key, &name, &began, &completed, &host, &user, &dir, &r.T0, &r.T1)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoWorkflow
	}
	if err != nil {
		return nil, fmt.Errorf("read workflow: %w", err)
	}
	r.Name, r.Host, r.User, r.RunDir = name.String, host.String, user.String, dir.String
	r.Began, _ = monitoring.ParseTime(began.String)
	if completed.Valid {
		r.Completed, _ = monitoring.ParseTime(completed.String)
	} else if err := r.lastRecorded(ctx, db); err != nil {
		return nil, err
	}
	if r.T1 < r.T0 {
		r.T1 = r.T0
	}
	return r, nil
}

// lastRecorded ends the axis of a run without an end time (still going,
// or stopped without finishing) at the last transition recorded, not at
// the present, which for a crashed run may be weeks on. The recorder
// writes a task when it ends, so the tasks with the highest keys hold the
// latest times, near enough for an axis.
func (r *runSummary) lastRecorded(ctx context.Context, db *sql.DB) error {
	lo, hi := r.taskKeys()
	var last sql.NullFloat64
	err := db.QueryRowContext(ctx, `SELECT MAX(`+secs("t")+`) FROM (
		SELECT MAX(task_time_invoked, COALESCE(task_time_running, ''), COALESCE(task_time_returned, '')) AS t
		FROM task WHERE task_key BETWEEN ? AND ? ORDER BY task_key DESC LIMIT 64)`, lo, hi).Scan(&last)
	if err != nil {
		return fmt.Errorf("read the run's last transition: %w", err)
	}
	if last.Valid {
		r.T1 = last.Float64
	}
	return nil
}

// States in the order the dashboard lists them: the kernel's lifecycle,
// then the final states.
var states = []string{"pending", "launched", "running", "joining", "exec_done", "memo_done", "failed", "dep_fail"}

// stateCounts is the number of tasks in each state.
type stateCounts map[string]int

func (c stateCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Failed counts the tasks that ended without a value.
func (c stateCounts) Failed() int { return c["failed"] + c["dep_fail"] }

// Done counts the tasks that ended with a value.
func (c stateCounts) Done() int { return c["exec_done"] + c["memo_done"] }

// stateCount is one state of stateCounts, for templates that list them in
// order.
type stateCount struct {
	State string
	N     int
}

// List gives the non-zero counts in lifecycle order, then any state this
// build does not know, so nothing in the database goes unshown.
func (c stateCounts) List() []stateCount {
	var out []stateCount
	seen := map[string]bool{}
	for _, s := range states {
		seen[s] = true
		if c[s] > 0 {
			out = append(out, stateCount{s, c[s]})
		}
	}
	for s, n := range c {
		if !seen[s] && n > 0 {
			out = append(out, stateCount{s, n})
		}
	}
	return out
}

// loadCounts counts the run's tasks by state. The count is made here
// rather than with GROUP BY: task_status_name has no index (the recorder
// keeps its writes to the task's own row), and SQLite groups by sorting,
// several times slower than reading the column once.
func loadCounts(ctx context.Context, db *sql.DB, run *runSummary) (stateCounts, error) {
	lo, hi := run.taskKeys()
	rows, err := db.QueryContext(ctx, `SELECT task_status_name FROM task WHERE task_key BETWEEN ? AND ?`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("count tasks by state: %w", err)
	}
	defer rows.Close()
	c := stateCounts{}
	var s sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("count tasks by state: %w", err)
		}
		c[string(s)]++ // no allocation once the state is in the map
	}
	return c, rows.Err()
}

// appSummary is one app's row in the duration table. Durations are the
// run time of each task's last try (running to returned): time waiting
// for dependencies or a free worker is not the app's cost.
type appSummary struct {
	App                 string
	Tasks, Done, Failed int
	Timed               int // tasks with a run time
	Median, P95, Max    float64
	HasTimes            bool
	Counts              stateCounts
}

// failure is a failed task, for the run page's failure list.
type failure struct {
	ID             int64
	App            string
	State          string
	Error          string
	Tries          int
	Host           string
	Stdout, Stderr string
}

// failureLimit is how many failures the run page lists; the task table
// filtered on the failed states pages through the rest.
const failureLimit = 20

// loadFailures lists the tasks that failed themselves (not dep_fail: those
// failed because one of these did, and can number in the thousands).
func loadFailures(ctx context.Context, db *sql.DB, run *runSummary) ([]failure, error) {
	lo, hi := run.taskKeys()
	rows, err := db.QueryContext(ctx, `SELECT task_id, task_func_name, task_status_name, COALESCE(task_fail_history, ''),
		task_fail_count, COALESCE(hostname, ''), COALESCE(task_stdout, ''), COALESCE(task_stderr, '')
		FROM task WHERE task_key BETWEEN ? AND ? AND task_status_name = 'failed' ORDER BY task_key LIMIT ?`, lo, hi, failureLimit)
	if err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	defer rows.Close()
	var out []failure
	for rows.Next() {
		var f failure
		if err := rows.Scan(&f.ID, &f.App, &f.State, &f.Error, &f.Tries, &f.Host, &f.Stdout, &f.Stderr); err != nil {
			return nil, fmt.Errorf("list failures: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	return out, lastTryErrors(ctx, db, run, out)
}

// lastTryErrors replaces each failure's error history (every failed try's
// error, run together) with its last try's error, which is the one that
// failed the task, when the try table has it.
func lastTryErrors(ctx context.Context, db *sql.DB, run *runSummary, fs []failure) error {
	if len(fs) == 0 {
		return nil
	}
	// A task's tries are a range of try_key: one short read each. (One
	// query ORing the ranges read the whole table.)
	st, err := db.PrepareContext(ctx, `SELECT task_fail_history FROM try
		WHERE try_key BETWEEN ? AND ? AND task_fail_history <> '' ORDER BY try_key DESC LIMIT 1`)
	if err != nil {
		return fmt.Errorf("read the failures' last errors: %w", err)
	}
	defer st.Close()
	for i := range fs {
		k := run.taskKey(fs[i].ID)
		var msg string
		err := st.QueryRowContext(ctx, monitoring.TryKey(k, 0), monitoring.TryKey(k, monitoring.MaxTries-1)).Scan(&msg)
		switch {
		case err == nil:
			fs[i].Error = msg
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read the last error of task %d: %w", fs[i].ID, err)
		}
	}
	return nil
}

// blockRow is a provider block's latest status.
type blockRow struct {
	Executor, Block, Job, Status string
	First, Last                  string
}

func loadBlocks(ctx context.Context, db *sql.DB, run *runSummary) ([]blockRow, error) {
	// A block's row per status change; the latest says where it is now.
	// Runs sharing a database number their blocks from 0 each.
	rows, err := db.QueryContext(ctx, `SELECT b.executor_label, b.block_id, COALESCE(s.job, ''), b.status, s.first, s.last
		FROM block b JOIN (
			SELECT executor_label, block_id, MAX(job_id) AS job, MIN(timestamp) AS first, MAX(timestamp) AS last
			FROM block WHERE run_id = ?1 GROUP BY executor_label, block_id
		) s ON b.executor_label = s.executor_label AND b.block_id = s.block_id AND b.timestamp = s.last
		WHERE b.run_id = ?1
		ORDER BY b.executor_label, CAST(b.block_id AS INTEGER), b.block_id LIMIT 500`, run.RunID)
	if err != nil {
		return nil, fmt.Errorf("list blocks: %w", err)
	}
	defer rows.Close()
	var out []blockRow
	for rows.Next() {
		var b blockRow
		if err := rows.Scan(&b.Executor, &b.Block, &b.Job, &b.Status, &b.First, &b.Last); err != nil {
			return nil, fmt.Errorf("list blocks: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
