package monitoring

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var (
	taskCols = []string{"task_id", "task_func_name", "task_status_name", "task_kind", "task_executor",
		"task_depends", "task_memoize", "task_time_invoked", "task_time_submitted", "task_time_running",
		"task_time_returned", "task_fail_count", "task_fail_cost", "task_fail_history", "hostname", "task_key"}
	tryCols = []string{"try_id", "task_id", "block_id", "hostname", "task_executor",
		"task_try_time_launched", "task_try_time_running", "task_try_time_returned",
		"task_fail_history", "worker_id", "task_try_status_name", "task_try_time_joining", "try_key"}
	// taskMoreCols follow taskCols in a task row that has any of them.
	taskMoreCols = []string{"task_hashsum", "task_stdout", "task_stderr"}
	resourceCols = []string{"try_id", "task_id", "timestamp", "resource_monitoring_interval",
		"psutil_process_pid", "psutil_process_cpu_percent", "psutil_process_memory_percent",
		"psutil_process_children_count", "psutil_process_time_user", "psutil_process_time_system",
		"psutil_process_memory_virtual", "psutil_process_memory_resident",
		"psutil_process_disk_read", "psutil_process_disk_write", "psutil_process_status"}
	blockCols = []string{"executor_label", "block_id", "job_id", "timestamp", "status"}
	nodeCols  = []string{"hostname", "uid", "block_id", "cpu_count", "total_memory", "active",
		"worker_count", "python_v", "timestamp", "last_heartbeat"}
)

// commit writes, in one transaction, the tasks that are due: those that
// reached a final state, and those with changes older than cutoff (unix
// ns; math.MaxInt64 writes every change).
func (w *writer) commit(cutoff int64) {
	w.dueBy(cutoff)
	if len(w.due) == 0 && len(w.resource) == 0 && len(w.blocks) == 0 && len(w.nodes) == 0 && !w.countsDirty {
		return
	}
	if w.err == nil {
		start := time.Now()
		if err := w.write(); err != nil {
			w.err = err
			w.r.log.Error("monitoring database: writes stop", "path", w.r.opts.Path, "error", err)
		} else if w.r.opts.Debug {
			w.r.log.Info("batch written", "tasks", len(w.due), "resources", len(w.resource)/len(resourceCols),
				"seconds", time.Since(start).Seconds())
		}
	}
	for _, t := range w.due {
		t.changed, t.isDue = 0, false
		for _, tr := range t.dirtyTries {
			tr.dirty = false
		}
		clear(t.dirtyTries)
		t.dirtyTries = t.dirtyTries[:0]
	}
	clear(w.due)
	w.due = w.due[:0]
	w.resource, w.blocks, w.nodes = w.resource[:0], w.blocks[:0], w.nodes[:0]
	w.countsDirty = false
}

func (w *writer) write() (err error) {
	ctx := w.ctx
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	if err := w.conn.Raw(func(dc any) error { return w.insertRows(dc.(driver.Conn)) }); err != nil {
		return err
	}
	if w.countsDirty {
		if _, err := w.conn.ExecContext(ctx, `UPDATE workflow SET tasks_completed_count = ?, tasks_failed_count = ? WHERE run_id = ?`,
			w.completed, w.failed, w.r.runID); err != nil {
			return fmt.Errorf("update workflow: %w", err)
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// insertRows writes the due tasks, their tries, and the resource, block
// and node rows through the driver's connection.
func (w *writer) insertRows(dc driver.Conn) error {
	args := w.args[:0]
	more := 0 // tasks with a hashsum or log files, written by taskMoreIns
	for _, t := range w.due {
		if t.id < 0 || t.id >= MaxTasks {
			return fmt.Errorf("task %d: ids from 0 to %d fit the database's keys", t.id, MaxTasks-1)
		}
		if t.hasMore() {
			more++
			continue
		}
		args = w.taskArgs(args, t)
	}
	if err := w.taskIns.write(w.ctx, dc, args); err != nil {
		return err
	}
	if more > 0 {
		args = args[:0]
		for _, t := range w.due {
			if t.hasMore() {
				args = append(w.taskArgs(args, t), nullString(t.hashsum), nullString(t.stdout), nullString(t.stderr))
			}
		}
		if err := w.taskMoreIns.write(w.ctx, dc, args); err != nil {
			return err
		}
	}
	args = args[:0]
	for _, t := range w.due {
		for _, tr := range t.dirtyTries {
			if tr.try < 0 || tr.try >= MaxTries {
				return fmt.Errorf("task %d try %d: tries from 0 to %d fit the database's keys", t.id, tr.try, MaxTries-1)
			}
			args = w.tryArgs(args, tr)
		}
	}
	for _, step := range []struct {
		in   *insert
		args []any
	}{{w.tryIns, args}, {w.resourceIns, w.resource}, {w.blockIns, w.blocks}, {w.nodeIns, w.nodes}} {
		if err := step.in.write(w.ctx, dc, step.args); err != nil {
			return err
		}
	}
	clear(args)
	w.args = args[:0]
	return nil
}

// hasMore says the task's row needs the columns of taskMoreCols. Once
// true it stays so: a row written again replaces the one before, whole.
func (t *taskRow) hasMore() bool { return t.hashsum != "" || t.stdout != "" || t.stderr != "" }

func (w *writer) taskArgs(args []any, t *taskRow) []any {
	var history any
	if len(t.failHistory) > 0 {
		history = strings.Join(t.failHistory, "\n")
	}
	memo := "0"
	if t.memo {
		memo = "1"
	}
	invoked := w.formatNS(t.invoked)
	return append(args, int64(t.id), w.box(t.app), w.box(t.state.String()), w.box(t.kind.String()), w.box(t.executor),
		depends(t.deps), w.box(memo), invoked, invoked, w.formatNS(t.running), w.formatNS(t.returned),
		int64(t.failCount), t.failCost, history, w.boxNull(t.host), TaskKey(w.runKey, int64(t.id)))
}

func (w *writer) tryArgs(args []any, tr *tryRow) []any {
	return append(args, int64(tr.try), int64(tr.task.id), w.boxNull(tr.block), w.boxNull(tr.host), w.box(tr.executor),
		w.formatNS(tr.launched), w.formatNS(tr.running), w.formatNS(tr.returned), nullString(tr.failure),
		w.boxNull(tr.worker), w.box(tr.state.String()), w.formatNS(tr.joining),
		TryKey(TaskKey(w.runKey, int64(tr.task.id)), int64(tr.try)))
}

// box is s as an argument. The strings that repeat on every row (app,
// state, executor, host names) are boxed once: each conversion to an
// interface allocates, and these were a tenth of the writer's garbage.
func (w *writer) box(s string) any {
	if v, ok := w.boxed[s]; ok {
		return v
	}
	v := any(s)
	if len(w.boxed) < 4096 { // names, not data: a bound keeps odd runs in check
		w.boxed[s] = v
	}
	return v
}

// boxNull is box with "" as NULL.
func (w *writer) boxNull(s string) any {
	if s == "" {
		return nil
	}
	return w.box(s)
}

// flush writes everything still in memory.
func (w *writer) flush() { w.commit(math.MaxInt64) }

// finish marks the run completed and folds the WAL into the main file, so
// the run folder holds one self-contained database.
func (w *writer) finish(end time.Time) error {
	defer w.conn.Close()
	for _, in := range []*insert{w.taskIns, w.taskMoreIns, w.tryIns, w.resourceIns, w.blockIns, w.nodeIns} {
		in.close(w.conn)
	}
	if w.err != nil {
		return nil // already reported; do not touch a database that fails
	}
	ctx := w.ctx
	if _, err := w.conn.ExecContext(ctx, `UPDATE workflow SET time_completed = ?, tasks_completed_count = ?,
		tasks_failed_count = ? WHERE run_id = ?`, FormatTime(end), w.completed, w.failed, w.r.runID); err != nil {
		return fmt.Errorf("record the run's end: %w", err)
	}
	if _, err := w.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	// A finished run's database leaves WAL mode: a read-only reader
	// (starflow runs, the dashboard) of a WAL database leaves -wal and
	// -shm files behind, and one file is what a user copies. While a
	// reader has it open the switch fails and the database stays in WAL
	// mode, which is as good to read.
	_, _ = w.conn.ExecContext(ctx, "PRAGMA journal_mode = DELETE")
	return nil
}

// depends is Parsl's task_depends: the ids, comma-separated.
func depends(ids []int) any {
	if len(ids) == 0 {
		return nil
	}
	b := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(id), 10)
	}
	return string(b)
}

// formatNS is a timestamp column's value: NULL for 0.
func (w *writer) formatNS(ns int64) any {
	if ns == 0 {
		return nil
	}
	return w.clock.format(ns)
}

// clock formats timestamps as TimeLayout does, reusing the formatted
// second: a run writes several timestamps per task, most within the same
// second, and time.Format was a tenth of the writer's time.
type clock struct {
	sec    int64
	prefix []byte // "2006-01-02 15:04:05." of sec, local time
	buf    []byte
}

func (c *clock) format(ns int64) string {
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	if c.prefix == nil || sec != c.sec {
		c.sec = sec
		c.prefix = time.Unix(sec, 0).Local().AppendFormat(c.prefix[:0], "2006-01-02 15:04:05.")
	}
	us := frac / 1000
	c.buf = append(c.buf[:0], c.prefix...)
	for div := int64(100000); div > 0; div /= 10 {
		c.buf = append(c.buf, byte('0'+us/div%10))
	}
	return string(c.buf)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
