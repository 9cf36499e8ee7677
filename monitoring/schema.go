// Package monitoring records a run's tasks into runinfo/NNN/monitoring.db,
// an SQLite database with Parsl's table and column names, so the queries
// Parsl users wrote against their monitoring.db keep working. A Recorder
// takes the kernel's task events off the hot path and writes them in
// batches; the `visualize` dashboard (monitoring/web) and `starflow runs`
// read what it wrote.
package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is stored in PRAGMA user_version. Bump it whenever a table
// or column changes meaning, so a reader can tell a database written by an
// older or newer starflow from one it understands.
//
//	1: the first starflow schema.
//	2: status is a view over task and try; task and try gain task_key and
//	   try_key; starflow_run; try gains task_try_time_joining; no indexes
//	   on task and try beyond their keys.
const SchemaVersion = 2

// ApplicationID is stored in PRAGMA application_id ("SFLW"): a database
// Parsl wrote has 0 there, one starflow wrote has this, so a reader can say
// which program wrote a file before trusting its columns.
const ApplicationID = 0x53464C57

// TimeLayout is how every timestamp column is written: local wall-clock
// time without a zone, microseconds, as Parsl's SQLAlchemy DateTime columns
// store it in SQLite. sqlite3's date functions (julianday, strftime) accept
// it, so durations are julianday(b)-julianday(a) times 86400 seconds.
const TimeLayout = "2006-01-02 15:04:05.000000"

// FormatTime renders t the way the database stores it.
func FormatTime(t time.Time) string { return t.Local().Format(TimeLayout) }

// ParseTime reads a timestamp column back (local time).
func ParseTime(s string) (time.Time, error) {
	return time.ParseInLocation(TimeLayout, s, time.Local)
}

// Keys. A database may hold several runs (a shared logging_endpoint), each
// numbering its tasks from 0. Rather than Parsl's (task_id, run_id) keys,
// whose text half every insert compares, task and try rows are keyed by
// one integer each, their rowid, built from the run's run_key (0 for the
// first run in the file, then 1, ...):
//
//	task_key = run_key << 32 | task_id
//	try_key  = task_key << 16 | try_id
//
// so a task's tries are the try_key range [task_key << 16, task_key << 16
// + 65535], and a run's tasks the task_key range [run_key << 32, (run_key
// + 1) << 32). Measured with the pure-Go driver, the text key cost about a
// fifth of the writer's time.
const (
	MaxRuns  = 1 << 15 // run_key < MaxRuns keeps try_key within 63 bits
	MaxTasks = 1 << 32 // task_id < MaxTasks
	MaxTries = 1 << 16 // try_id < MaxTries
)

// TaskKey is task.task_key of a task of the run numbered runKey.
func TaskKey(runKey, taskID int64) int64 { return runKey<<32 | taskID }

// TryKey is try.try_key of a try of the task keyed taskKey.
func TryKey(taskKey, tryID int64) int64 { return taskKey<<16 | tryID }

// Schema is the database's DDL. Table and column names are Parsl's
// (parsl/monitoring/db_manager.py); columns Parsl dropped over its versions
// are kept where old queries still name them, and starflow's own additions
// are marked. Constraints are looser than Parsl's (fewer NOT NULLs, no
// foreign keys): a column starflow cannot know yet stays NULL rather than
// holding a made-up value.
//
// Status names (task_status_name) are dfk.State's: pending, launched,
// running, joining, exec_done, memo_done, failed, dep_fail; Parsl uses the
// same names for the same states.
//
// Every row costs the writer per column it fills (about 0.1 µs each with
// the pure-Go driver), so a task is two rows, task and try, and its
// transitions (Parsl's status table) are a view over their times.
const Schema = `
CREATE TABLE IF NOT EXISTS workflow (
	run_id                TEXT PRIMARY KEY NOT NULL,
	workflow_name         TEXT,     -- the script's file name unless MonitoringHub(workflow_name=) says otherwise
	workflow_version      TEXT,
	time_began            TEXT NOT NULL,
	time_completed        TEXT,     -- NULL while the run is going, or after a crash
	host                  TEXT NOT NULL,
	user                  TEXT NOT NULL,
	rundir                TEXT NOT NULL,
	tasks_failed_count    INTEGER NOT NULL DEFAULT 0,  -- tasks that ended failed or dep_fail
	tasks_completed_count INTEGER NOT NULL DEFAULT 0   -- tasks that ended exec_done or memo_done
);

-- starflow: each run's run_key, the high bits of its task_key and try_key.
CREATE TABLE IF NOT EXISTS starflow_run (
	run_id  TEXT PRIMARY KEY NOT NULL,
	run_key INTEGER NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS task (
	task_id             INTEGER NOT NULL,
	run_id              TEXT NOT NULL,
	task_func_name      TEXT NOT NULL,
	task_status_name    TEXT NOT NULL, -- starflow: the task's current state (the Parsl tutorial's query names it)
	task_kind           TEXT,          -- starflow: python, bash or join
	task_executor       TEXT,          -- the executor label (Parsl moved this to try; kept for old queries)
	task_depends        TEXT,          -- ids of the tasks it waits on, comma-separated, as Parsl writes them
	task_memoize        TEXT NOT NULL, -- 1 when cache=True
	task_hashsum        TEXT,
	task_inputs         TEXT,
	task_outputs        TEXT,
	task_stdin          TEXT,
	task_stdout         TEXT,
	task_stderr         TEXT,
	task_time_invoked   TEXT,          -- when the app was called (Parsl's current name)
	task_time_submitted TEXT,          -- the same instant under the name older Parsl and its tutorial use
	task_time_running   TEXT,          -- when its latest try started running (older Parsl)
	task_time_returned  TEXT,          -- when it reached a final state
	task_fail_count     INTEGER NOT NULL DEFAULT 0,
	task_fail_cost      REAL NOT NULL DEFAULT 0,
	task_fail_history   TEXT,          -- error text of each failed try, in order (older Parsl)
	hostname            TEXT,          -- host of its latest try (older Parsl)
	task_key            INTEGER PRIMARY KEY -- starflow: run_key << 32 | task_id (see starflow_run)
);

CREATE TABLE IF NOT EXISTS try (
	try_id                 INTEGER NOT NULL, -- 0 for the first try
	task_id                INTEGER NOT NULL,
	run_id                 TEXT NOT NULL,
	block_id               TEXT,             -- provider block; NULL in-process
	hostname               TEXT,
	task_executor          TEXT NOT NULL,
	task_try_time_launched TEXT,
	task_try_time_running  TEXT,
	task_try_time_returned TEXT,
	task_fail_history      TEXT,             -- the try's error text when it failed
	task_joins             TEXT,
	worker_id              TEXT,             -- starflow: the executor's id for the worker or slot
	task_try_status_name   TEXT,             -- starflow: the state the try ended in (or is in)
	task_try_time_joining  TEXT,             -- starflow: when a join app's body returned and it began waiting on what it returned
	try_key                INTEGER PRIMARY KEY -- starflow: task_key << 16 | try_id
);

-- Parsl's status table: every transition of every task. Each is a time
-- the task and try rows hold: pending at task_time_invoked; per try
-- launched, running and joining; the final state at task_time_returned,
-- with the last try's id. A task's transitions have distinct timestamps,
-- so ORDER BY timestamp lists them in the order the kernel made them.
CREATE VIEW IF NOT EXISTS status (task_id, task_status_name, timestamp, run_id, try_id) AS
	SELECT task_id, 'pending', task_time_invoked, run_id, 0 FROM task
	UNION ALL
	SELECT task_id, 'launched', task_try_time_launched, run_id, try_id FROM try WHERE task_try_time_launched IS NOT NULL
	UNION ALL
	SELECT task_id, 'running', task_try_time_running, run_id, try_id FROM try WHERE task_try_time_running IS NOT NULL
	UNION ALL
	SELECT task_id, 'joining', task_try_time_joining, run_id, try_id FROM try WHERE task_try_time_joining IS NOT NULL
	UNION ALL
	SELECT task_id, 'fail_retryable', task_try_time_returned, run_id, try_id FROM try y
		WHERE task_try_time_returned IS NOT NULL AND EXISTS (SELECT 1 FROM try z WHERE z.try_key = y.try_key + 1)
	UNION ALL
	SELECT task_id, task_status_name, task_time_returned, run_id,
		COALESCE((SELECT MAX(y.try_id) FROM try y WHERE y.try_key BETWEEN t.task_key << 16 AND (t.task_key << 16) + 65535), 0)
		FROM task t WHERE task_time_returned IS NOT NULL;

-- One row per sample of a try's processes. The psutil_ names are Parsl's;
-- starflow reads /proc instead of psutil. CPU times are seconds, memory
-- and disk bytes.
CREATE TABLE IF NOT EXISTS resource (
	try_id                        INTEGER NOT NULL,
	task_id                       INTEGER NOT NULL,
	run_id                        TEXT NOT NULL,
	timestamp                     TEXT NOT NULL,
	resource_monitoring_interval  REAL,
	psutil_process_pid            INTEGER,
	psutil_process_cpu_percent    REAL,
	psutil_process_memory_percent REAL,
	psutil_process_children_count REAL,
	psutil_process_time_user      REAL,
	psutil_process_time_system    REAL,
	psutil_process_memory_virtual REAL,
	psutil_process_memory_resident REAL,
	psutil_process_disk_read      REAL,
	psutil_process_disk_write     REAL,
	psutil_process_status         TEXT
);

CREATE TABLE IF NOT EXISTS node (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id         TEXT NOT NULL,
	hostname       TEXT NOT NULL,
	uid            TEXT,
	block_id       TEXT,
	cpu_count      INTEGER,
	total_memory   INTEGER,
	active         INTEGER,
	worker_count   INTEGER,
	python_v       TEXT,  -- starflow writes its own version here
	timestamp      TEXT NOT NULL,
	last_heartbeat TEXT
);

CREATE TABLE IF NOT EXISTS block (
	run_id         TEXT NOT NULL,
	executor_label TEXT NOT NULL,
	block_id       TEXT NOT NULL,
	job_id         TEXT,
	timestamp      TEXT NOT NULL,
	status         TEXT NOT NULL,
	PRIMARY KEY (run_id, block_id, executor_label, timestamp)
);
`

// Indexes are what the dashboard's per-task resource query needs. Task
// and try have none beyond their keys: every index is one more b-tree
// insert per row for the writer, and built when the run ends instead,
// each would lengthen its shutdown by about 50 ms per 100,000 tasks
// (measured for task_status_name), a quarter of the no-op benchmark's
// whole run. The dashboard finds a task and its tries by key and reads
// the table for the rest (some tens of milliseconds per 100,000 tasks).
const Indexes = `
CREATE INDEX IF NOT EXISTS resource_task_idx ON resource (task_id, try_id);
`

// Create makes db a starflow monitoring database: the tables, the indexes
// when withIndexes, and the version pragmas. It is idempotent on a
// database of the same version. Tests that need a database to read can
// call it and insert rows.
func Create(ctx context.Context, db *sql.DB, withIndexes bool) error {
	ddl := Schema
	if withIndexes {
		ddl += Indexes
	}
	ddl += fmt.Sprintf("PRAGMA application_id = %d;\nPRAGMA user_version = %d;\n", ApplicationID, SchemaVersion)
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("monitoring: create schema: %w", err)
	}
	return nil
}

// ErrNotStarflow says a database was not written by starflow (Parsl's own
// monitoring.db, or another SQLite file).
var ErrNotStarflow = errors.New("not a starflow monitoring database")

// VersionError says a starflow database has a schema this build does not read.
type VersionError struct{ Got int }

func (e *VersionError) Error() string {
	if e.Got < SchemaVersion {
		return fmt.Sprintf("monitoring database schema version %d was written by an older starflow (this one reads version %d)", e.Got, SchemaVersion)
	}
	return fmt.Sprintf("monitoring database schema version %d was written by a newer starflow (this one reads version %d)", e.Got, SchemaVersion)
}

// CheckVersion tells whether db is a starflow database this build reads:
// nil, ErrNotStarflow, or a *VersionError.
func CheckVersion(ctx context.Context, db *sql.DB) error {
	var app, version int
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return fmt.Errorf("monitoring: read application_id: %w", err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("monitoring: read user_version: %w", err)
	}
	if app != ApplicationID {
		return ErrNotStarflow
	}
	if version != SchemaVersion {
		return &VersionError{Got: version}
	}
	return nil
}
