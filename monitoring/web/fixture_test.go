package web

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
)

// The tests read databases made with monitoring.Create, the DDL the
// recorder writes with, so a schema change shows up here as a failing
// test rather than as a dashboard that silently shows nothing.

// fixtureBegan is when every generated run starts.
const fixtureBegan = "2026-03-04 10:00:00.000000"

// createDB makes runinfo/ID/monitoring.db under root with starflow's
// schema and returns it open for writing.
func createDB(t testing.TB, root, id string, indexes bool) *sql.DB {
	t.Helper()
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, monitoring.FileName)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if err := monitoring.Create(context.Background(), db, indexes); err != nil {
		t.Fatal(err)
	}
	return db
}

// execAll runs statements in one transaction.
func execAll(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			tx.Rollback()
			t.Fatalf("%v\nin: %s", err, s)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// at is the SQL for a timestamp secs seconds after fixtureBegan, in the
// recorder's layout (microseconds).
func at(secs string) string {
	return fmt.Sprintf("strftime('%%Y-%%m-%%d %%H:%%M:%%f', '%s', printf('%%+.3f seconds', %s)) || '000'", fixtureBegan, secs)
}

// bigRunApps are the apps of a generated run, by task_id % 5.
var bigRunApps = []string{"simulate", "analyze", "plot", "fetch", "reduce"}

// makeBigRun writes a run of n tasks as the recorder would: finished (an
// end time) or still going, in one transaction of INSERT ... SELECT
// statements over a generated series (a Go loop of n*2 inserts takes far
// longer). It is the database's first run: task_key is task_id. 32 workers in 4 blocks run
// the tasks one after the other; task i is:
//
//	i%100 == 7:      failed after 2 tries (both failed)
//	i%100 == 8, 9:   dep_fail (never ran)
//	i%100 == 10:     memo_done (never ran)
//	i%100 == 11:     exec_done on its second try, the first failed
//	otherwise:       exec_done on its first try
func makeBigRun(t testing.TB, root, id string, n int, finished bool) {
	t.Helper()
	db := createDB(t, root, id, finished)
	end := at(fmt.Sprintf("%d * 0.2 / 32 + 1", n))
	if !finished {
		end = "NULL"
	}
	apps := "CASE task_id % 5"
	for i, a := range bigRunApps {
		apps += fmt.Sprintf(" WHEN %d THEN '%s'", i, a)
	}
	apps += " END"
	state := `CASE task_id % 100 WHEN 7 THEN 'failed' WHEN 8 THEN 'dep_fail' WHEN 9 THEN 'dep_fail' WHEN 10 THEN 'memo_done' ELSE 'exec_done' END`
	// Each worker runs a task every 0.2 s; a try takes 50-149 ms.
	start := "(task_id / 32) * 0.2"
	dur := "(0.05 + ((task_id * 7919) % 100) / 1000.0)"
	series := fmt.Sprintf("WITH RECURSIVE s(task_id) AS (SELECT 0 UNION ALL SELECT task_id + 1 FROM s WHERE task_id < %d) ", n-1)
	ran := "task_id % 100 NOT IN (8, 9, 10)"
	execAll(t, db,
		fmt.Sprintf(`INSERT INTO workflow VALUES ('run-%s', 'sweep.star', NULL, '%s', %s, 'node0', 'alice', '/home/alice/runinfo/%s', %d, %d)`,
			id, fixtureBegan, end, id, n*3/100, n-n*3/100),
		`INSERT INTO starflow_run VALUES ('run-`+id+`', 0)`,
		series+`INSERT INTO task SELECT task_id, 'run-`+id+`', `+apps+`, `+state+`, 'python', 'htex',
			CASE WHEN task_id % 100 = 8 THEN CAST(task_id - 1 AS TEXT) WHEN task_id % 100 = 9 THEN CAST(task_id - 2 AS TEXT) WHEN task_id > 0 THEN CAST(task_id / 2 AS TEXT) END,
			CASE WHEN task_id % 100 = 10 THEN '1' ELSE '0' END, NULL, NULL, NULL, NULL,
			'task_logs/' || task_id || '.out', 'task_logs/' || task_id || '.err',
			`+at(start+" - 0.1")+`, `+at(start+" - 0.1")+`,
			CASE WHEN `+ran+` THEN `+at(start)+` END,
			`+at(start+" + "+dur)+`,
			CASE task_id % 100 WHEN 7 THEN 2 WHEN 11 THEN 1 ELSE 0 END,
			CASE task_id % 100 WHEN 7 THEN 2 WHEN 11 THEN 1 ELSE 0 END,
			CASE task_id % 100 WHEN 7 THEN 'ValueError: bad input ' || task_id || char(10) || 'ValueError: bad input ' || task_id
				WHEN 8 THEN 'DependencyError: task ' || (task_id - 1) || ' failed' WHEN 9 THEN 'DependencyError: task ' || (task_id - 2) || ' failed'
				WHEN 11 THEN 'ValueError: flaky ' || task_id END,
			'node' || (task_id % 32 / 8 + 1), task_id
			FROM s`,
		// The last try of every task that ran; a failed first try sits in
		// the previous 0.2 s slot of the same worker.
		series+`INSERT INTO try SELECT CASE WHEN task_id % 100 IN (7, 11) THEN 1 ELSE 0 END, task_id, 'run-`+id+`',
			CAST(task_id % 32 / 8 AS TEXT), 'node' || (task_id % 32 / 8 + 1), 'htex',
			`+at(start+" - 0.01")+`, `+at(start)+`, `+at(start+" + "+dur)+`,
			CASE WHEN task_id % 100 = 7 THEN 'ValueError: bad input ' || task_id END, NULL,
			CAST(task_id % 32 AS TEXT), CASE WHEN task_id % 100 = 7 THEN 'failed' ELSE 'exec_done' END,
			NULL, task_id << 16 | CASE WHEN task_id % 100 IN (7, 11) THEN 1 ELSE 0 END
			FROM s WHERE `+ran,
		series+`INSERT INTO try SELECT 0, task_id, 'run-`+id+`',
			CAST(task_id % 32 / 8 AS TEXT), 'node' || (task_id % 32 / 8 + 1), 'htex',
			`+at(start+" - 0.11")+`, `+at(start+" - 0.1")+`, `+at(start+" - 0.05")+`,
			CASE WHEN task_id % 100 = 7 THEN 'ValueError: bad input ' ELSE 'ValueError: flaky ' END || task_id, NULL,
			CAST(task_id % 32 AS TEXT), 'failed', NULL, task_id << 16
			FROM s WHERE task_id % 100 IN (7, 11)`,
		// A resource sample for one try in ten.
		series+`INSERT INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, psutil_process_pid,
			psutil_process_time_user, psutil_process_time_system, psutil_process_memory_resident, psutil_process_disk_read, psutil_process_disk_write)
			SELECT 0, task_id, 'run-`+id+`', `+at(start+" + 0.04")+`, 0.04, 1000 + task_id, 0.03, 0.01, 50000000 + task_id, 4096, 8192
			FROM s WHERE task_id % 10 = 1`,
		`INSERT INTO block VALUES
			('run-`+id+`', 'htex', '0', '101', '`+fixtureBegan+`', 'PENDING'),
			('run-`+id+`', 'htex', '0', '101', `+at("1")+`, 'RUNNING'),
			('run-`+id+`', 'htex', '1', '102', `+at("1")+`, 'RUNNING'),
			('run-`+id+`', 'htex', '2', '103', `+at("1")+`, 'RUNNING'),
			('run-`+id+`', 'htex', '3', '104', `+at("1")+`, 'RUNNING')`,
	)
}

// smallRunFailure is the error text of the one failing task in makeSmallRun.
const smallRunFailure = "ZeroDivisionError: division by zero"

// makeSmallRun writes a finished run whose every row is known: the tests
// check pages against it.
//
//	task 0 fetch    exec_done  on worker 0, 0-2 s
//	task 1 simulate exec_done  on worker 1, try 0 failed (1-2 s), try 1 2-4 s
//	task 2 simulate failed     after 2 tries on worker 0 (2-3 s, 3-5.5 s); deps 0
//	task 3 plot     dep_fail   deps 1,2
//	task 4 fetch    memo_done
//	task 5 analyze  running    on worker 1 since 4 s (the run crashed)
func makeSmallRun(t testing.TB, root, id string) {
	t.Helper()
	db := createDB(t, root, id, true)
	run := "'run-" + id + "'"
	task := func(tid int, app, state, deps string, fails int, hist string, inv, running, ret string) string {
		null := func(s string) string {
			if s == "" {
				return "NULL"
			}
			return s
		}
		q := func(s string) string {
			if s == "" {
				return "NULL"
			}
			return "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		return fmt.Sprintf(`INSERT INTO task (task_id, run_id, task_func_name, task_status_name, task_kind, task_executor, task_depends,
			task_memoize, task_stdout, task_stderr, task_time_invoked, task_time_submitted, task_time_running, task_time_returned,
			task_fail_count, task_fail_cost, task_fail_history, hostname, task_key)
			VALUES (%d, %s, '%s', '%s', 'python', 'htex', %s, '0', 'runinfo/%s/task_logs/%d.out', 'runinfo/%s/task_logs/%d.err',
			%s, %s, %s, %s, %d, %d, %s, 'node1', %d)`,
			tid, run, app, state, q(deps), id, tid, id, tid, null(inv), null(inv), null(running), null(ret), fails, fails, q(hist), tid)
	}
	try := func(task, try int, worker, launched, running, ret, status, hist string) string {
		h := "NULL"
		if hist != "" {
			h = "'" + hist + "'"
		}
		r := "NULL"
		if ret != "" {
			r = at(ret)
		}
		return fmt.Sprintf(`INSERT INTO try VALUES (%d, %d, %s, '0', 'node1', 'htex', %s, %s, %s, %s, NULL, '%s', '%s', NULL, %d)`,
			try, task, run, at(launched), at(running), r, h, worker, status, monitoring.TryKey(int64(task), int64(try)))
	}
	execAll(t, db,
		`INSERT INTO workflow VALUES (`+run+`, 'small.star', NULL, '`+fixtureBegan+`', NULL, 'node0', 'alice', '/home/alice/runinfo/`+id+`', 2, 2)`,
		`INSERT INTO starflow_run VALUES (`+run+`, 0)`,
		task(0, "fetch", "exec_done", "", 0, "", at("0"), at("0"), at("2")),
		task(1, "simulate", "exec_done", "", 1, "OSError: flaky disk", at("0"), at("2"), at("4")),
		task(2, "simulate", "failed", "0", 2, smallRunFailure+"\n"+smallRunFailure, at("0"), at("3"), at("5.5")),
		task(3, "plot", "dep_fail", "1,2", 0, "DependencyError: task 2 failed", at("0"), "", at("5.5")),
		task(4, "fetch", "memo_done", "", 0, "", at("0"), "", at("0.5")),
		task(5, "analyze", "running", "1", 0, "", at("0"), at("4"), ""),
		try(0, 0, "0", "0", "0", "2", "exec_done", ""),
		try(1, 0, "1", "1", "1", "2", "failed", "OSError: flaky disk"),
		try(1, 1, "1", "2", "2", "4", "exec_done", ""),
		try(2, 0, "0", "2", "2", "3", "failed", smallRunFailure),
		try(2, 1, "0", "3", "3", "5.5", "failed", smallRunFailure),
		try(5, 0, "1", "4", "4", "", "running", ""),
		`INSERT INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, psutil_process_pid,
			psutil_process_time_user, psutil_process_time_system, psutil_process_memory_resident, psutil_process_disk_read, psutil_process_disk_write)
			VALUES (1, 2, `+run+`, `+at("3.5")+`, 0.5, 4242, 0.25, 0.05, 104857600, 1024, 2048),
			       (1, 2, `+run+`, `+at("4")+`, 0.5, 4242, 0.5, 0.1, 209715200, 1024, 4096)`,
		`INSERT INTO block VALUES (`+run+`, 'htex', '0', '4711', '`+fixtureBegan+`', 'PENDING'), (`+run+`, 'htex', '0', '4711', `+at("0.2")+`, 'RUNNING')`,
	)
}
