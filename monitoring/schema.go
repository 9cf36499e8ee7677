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
//	1: the first starflow schema (this file).
const SchemaVersion = 1

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
	PRIMARY KEY (task_id, run_id)
) WITHOUT ROWID;

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
	-- Parsl's key, task first: the per-task lookups use it as their index.
	PRIMARY KEY (task_id, try_id, run_id)
) WITHOUT ROWID;

-- Every transition, in the order the kernel made them. No primary key:
-- two transitions of one task may share a microsecond.
CREATE TABLE IF NOT EXISTS status (
	task_id          INTEGER NOT NULL,
	task_status_name TEXT NOT NULL,
	timestamp        TEXT NOT NULL,
	run_id           TEXT NOT NULL,
	try_id           INTEGER NOT NULL
);

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

// Indexes are what the dashboard's per-task and per-state queries need.
// They exist from the start: a live or crashed run is read too, and
// maintaining them as rows arrive costs the writer no more CPU than
// building them at the end (measured), while that would lengthen the
// run's shutdown.
const Indexes = `
CREATE INDEX IF NOT EXISTS task_status_idx ON task (task_status_name);
CREATE INDEX IF NOT EXISTS task_func_idx ON task (task_func_name);
CREATE INDEX IF NOT EXISTS status_task_idx ON status (task_id);
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
