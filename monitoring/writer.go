package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// writer turns events into rows. Only the Recorder's writer goroutine
// (and Close, after it ended) uses it, so it needs no lock.
type writer struct {
	r    *Recorder
	ctx  context.Context
	conn *sql.Conn // the one connection: statements and transactions share it
	err  error     // the first failed write; the batches after it are dropped

	tasks map[int]*taskRow // tasks not yet in a final state
	// What the next commit writes.
	dirtyTasks []*taskRow
	dirtyTries []*tryRow
	status     []any
	resource   []any
	blocks     []any
	nodes      []any

	completed, failed int
	countsDirty       bool
	seenBlocks        map[[2]string]bool // executor, block
	seenNodes         map[[3]string]bool // block, host, worker
	host              string

	res   resources // resource.go
	clock clock

	taskIns, tryIns, statusIns, resourceIns, blockIns, nodeIns *insert
}

// taskRow is the whole state of one task row.
type taskRow struct {
	id          int
	app         string
	kind        dfk.Kind
	executor    string
	deps        []int
	memo        bool
	state       dfk.State
	invoked     int64 // unix ns; 0 is NULL
	running     int64
	returned    int64
	failCount   int
	failCost    float64
	failHistory []string
	host        string
	try         *tryRow // the latest try
	dirty       bool
}

// tryRow is the whole state of one try row.
type tryRow struct {
	task                        *taskRow
	try                         int
	executor                    string
	block, host, worker         string
	launched, running, returned int64
	failure                     string
	state                       dfk.State
	dirty                       bool
}

var (
	taskCols = []string{"task_id", "task_func_name", "task_status_name", "task_kind", "task_executor",
		"task_depends", "task_memoize", "task_time_invoked", "task_time_submitted", "task_time_running",
		"task_time_returned", "task_fail_count", "task_fail_cost", "task_fail_history", "hostname"}
	tryCols = []string{"try_id", "task_id", "block_id", "hostname", "task_executor",
		"task_try_time_launched", "task_try_time_running", "task_try_time_returned",
		"task_fail_history", "worker_id", "task_try_status_name"}
	statusCols   = []string{"task_id", "task_status_name", "timestamp", "try_id"}
	resourceCols = []string{"try_id", "task_id", "timestamp", "resource_monitoring_interval",
		"psutil_process_pid", "psutil_process_cpu_percent", "psutil_process_memory_percent",
		"psutil_process_children_count", "psutil_process_time_user", "psutil_process_time_system",
		"psutil_process_memory_virtual", "psutil_process_memory_resident",
		"psutil_process_disk_read", "psutil_process_disk_write", "psutil_process_status"}
	blockCols = []string{"executor_label", "block_id", "job_id", "timestamp", "status"}
	nodeCols  = []string{"hostname", "uid", "block_id", "cpu_count", "total_memory", "active",
		"worker_count", "python_v", "timestamp", "last_heartbeat"}
)

func newWriter(ctx context.Context, r *Recorder) (*writer, error) {
	conn, err := r.db.Conn(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("monitoring: %s: %w", r.opts.Path, err)
	}
	id := r.runID
	w := &writer{
		r: r, ctx: context.WithoutCancel(ctx), conn: conn,
		tasks:       map[int]*taskRow{},
		seenBlocks:  map[[2]string]bool{},
		seenNodes:   map[[3]string]bool{},
		host:        hostname(),
		taskIns:     newInsert("task", taskCols, id, upsert("task_id, run_id", taskCols[2:])),
		tryIns:      newInsert("try", tryCols, id, upsert("task_id, try_id, run_id", tryCols[2:])),
		statusIns:   newInsert("status", statusCols, id, ""),
		resourceIns: newInsert("resource", resourceCols, id, ""),
		blockIns:    newInsert("block", blockCols, id, " ON CONFLICT DO NOTHING"),
		nodeIns:     newInsert("node", nodeCols, id, ""),
	}
	w.res.init(r.opts.Resources, r.opts.ResourceInterval)
	_, err = conn.ExecContext(w.ctx, `INSERT INTO workflow (run_id, workflow_name, workflow_version,
		time_began, host, user, rundir) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, r.opts.WorkflowName, nullString(r.opts.WorkflowVersion), FormatTime(time.Now()),
		w.host, username(), r.opts.RunDir)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("monitoring: %s: record the run: %w", r.opts.Path, err)
	}
	return w, nil
}

// apply turns a batch of events (and bash process groups starting and
// ending) into pending rows.
func (w *writer) apply(batch []event, procs []procEvent) {
	for i := range batch {
		w.event(&batch[i])
	}
	for _, p := range procs {
		w.res.proc(w, p)
	}
}

func (w *writer) event(e *event) {
	t := w.tasks[e.id]
	if t == nil {
		t = &taskRow{id: e.id, app: e.app, kind: e.kind, executor: w.label(e.executor), invoked: e.at}
		w.tasks[e.id] = t
	}
	w.status = append(w.status, e.id, e.state.String(), w.formatNS(e.at), int(e.try))
	t.state = e.state
	w.touch(t)
	switch e.state {
	case dfk.Pending:
		t.deps, t.memo = e.deps, e.memo
	case dfk.Launched:
		if prev := t.try; prev != nil && e.err != nil {
			// A retry: the kernel reports the failed try only here.
			w.endTry(prev, dfk.Failed, e.at, e.err)
			t.failed(e.err)
		}
		tr := &tryRow{task: t, try: int(e.try), executor: t.executor, launched: e.at, state: dfk.Launched}
		t.try = tr
		w.touchTry(tr)
	case dfk.Running:
		tr := w.tryOf(t, e)
		tr.running, tr.state = e.at, dfk.Running
		t.running = e.at
		local := e.where == nil && !w.r.opts.Remote[t.executor]
		if e.where != nil {
			tr.block, tr.host, tr.worker = e.where.Block, e.where.Host, e.where.Worker
			w.seeWhere(t.executor, e.where, e.at)
		} else if local {
			tr.host = w.host
		}
		t.host = tr.host
		w.res.started(t, tr, local)
		w.touchTry(tr)
	case dfk.Joining:
		tr := w.tryOf(t, e)
		tr.state = dfk.Joining
		w.res.ended(tr)
		w.touchTry(tr)
	case dfk.ExecDone, dfk.MemoDone, dfk.Failed:
		// A task failed before any try (an interrupt while it waited)
		// gets no made-up try row.
		if t.try != nil || e.state != dfk.Failed {
			w.endTry(w.tryOf(t, e), e.state, e.at, e.err)
		}
		if e.state == dfk.Failed {
			t.failed(e.err)
		}
		w.final(t, e)
	case dfk.DepFail:
		if e.err != nil {
			t.failHistory = append(t.failHistory, e.err.Error())
		}
		w.final(t, e)
	}
}

// sample adds a resource row for every running try it can see.
func (w *writer) sample(now time.Time) { w.res.sample(w, now) }

// label resolves the default executor's "" to its label.
func (w *writer) label(executor string) string {
	if executor == "" {
		return w.r.opts.DefaultExecutor
	}
	return executor
}

// tryOf is the try an event is about; a try the writer never saw launch
// (it cannot happen with the kernel's events) is made up rather than lost.
func (w *writer) tryOf(t *taskRow, e *event) *tryRow {
	if t.try == nil || t.try.try != int(e.try) {
		t.try = &tryRow{task: t, try: int(e.try), executor: t.executor}
	}
	return t.try
}

func (w *writer) endTry(tr *tryRow, s dfk.State, at int64, err error) {
	tr.returned, tr.state = at, s
	if err != nil {
		tr.failure = err.Error()
	}
	w.res.ended(tr)
	w.touchTry(tr)
}

func (t *taskRow) failed(err error) {
	t.failCount++
	var lost dfk.ResourceLost
	if !errors.As(err, &lost) || !lost.ResourceLost() {
		// A try lost with its worker costs nothing (dfk.ResourceLost);
		// any other failure costs 1 unless a retry_handler priced it,
		// which the kernel's events do not carry.
		t.failCost++
	}
	if err != nil {
		t.failHistory = append(t.failHistory, err.Error())
	}
}

func (w *writer) final(t *taskRow, e *event) {
	t.returned = e.at
	if e.state == dfk.ExecDone || e.state == dfk.MemoDone {
		w.completed++
	} else {
		w.failed++
	}
	w.countsDirty = true
	delete(w.tasks, t.id)
}

func (w *writer) touch(t *taskRow) {
	if !t.dirty {
		t.dirty = true
		w.dirtyTasks = append(w.dirtyTasks, t)
	}
}

func (w *writer) touchTry(tr *tryRow) {
	if !tr.dirty {
		tr.dirty = true
		w.dirtyTries = append(w.dirtyTries, tr)
	}
}

// seeWhere records a block and a node the first time a try runs there.
func (w *writer) seeWhere(executor string, where *dfk.Where, at int64) {
	ts := w.formatNS(at)
	if where.Block != "" && !w.seenBlocks[[2]string{executor, where.Block}] {
		w.seenBlocks[[2]string{executor, where.Block}] = true
		// Parsl's block rows come from provider polls; a block running a
		// try is at least RUNNING (Parsl's JobState name).
		w.blocks = append(w.blocks, executor, where.Block, nil, ts, "RUNNING")
	}
	if where.Host != "" && !w.seenNodes[[3]string{where.Block, where.Host, where.Worker}] {
		w.seenNodes[[3]string{where.Block, where.Host, where.Worker}] = true
		w.nodes = append(w.nodes, where.Host, nullString(where.Worker), nullString(where.Block),
			nil, nil, 1, nil, "starflow", ts, ts)
	}
}

// commit writes the pending rows in one transaction.
func (w *writer) commit() {
	if len(w.dirtyTasks) == 0 && len(w.dirtyTries) == 0 && len(w.status) == 0 &&
		len(w.resource) == 0 && len(w.blocks) == 0 && !w.countsDirty {
		return
	}
	if w.err == nil {
		start := time.Now()
		if err := w.write(); err != nil {
			w.err = err
			w.r.log.Error("monitoring database: writes stop", "path", w.r.opts.Path, "error", err)
		} else if w.r.opts.Debug {
			w.r.log.Info("batch written", "tasks", len(w.dirtyTasks), "tries", len(w.dirtyTries),
				"statuses", len(w.status)/len(statusCols), "resources", len(w.resource)/len(resourceCols),
				"seconds", time.Since(start).Seconds())
		}
	}
	for _, t := range w.dirtyTasks {
		t.dirty = false
	}
	for _, tr := range w.dirtyTries {
		tr.dirty = false
	}
	w.dirtyTasks, w.dirtyTries = w.dirtyTasks[:0], w.dirtyTries[:0]
	w.status, w.resource = w.status[:0], w.resource[:0]
	w.blocks, w.nodes = w.blocks[:0], w.nodes[:0]
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
	args := make([]any, 0, len(w.dirtyTasks)*len(taskCols))
	for _, t := range w.dirtyTasks {
		args = w.taskArgs(args, t)
	}
	if err := w.taskIns.write(ctx, w.conn, args); err != nil {
		return err
	}
	args = args[:0]
	for _, tr := range w.dirtyTries {
		args = w.tryArgs(args, tr)
	}
	for _, step := range []struct {
		in   *insert
		args []any
	}{{w.tryIns, args}, {w.statusIns, w.status}, {w.resourceIns, w.resource}, {w.blockIns, w.blocks}, {w.nodeIns, w.nodes}} {
		if err := step.in.write(ctx, w.conn, step.args); err != nil {
			return err
		}
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
	return append(args, t.id, t.app, t.state.String(), t.kind.String(), t.executor, depends(t.deps), memo,
		invoked, invoked, w.formatNS(t.running), w.formatNS(t.returned), t.failCount, t.failCost, history,
		nullString(t.host))
}

func (w *writer) tryArgs(args []any, tr *tryRow) []any {
	return append(args, tr.try, tr.task.id, nullString(tr.block), nullString(tr.host), tr.executor,
		w.formatNS(tr.launched), w.formatNS(tr.running), w.formatNS(tr.returned), nullString(tr.failure),
		nullString(tr.worker), tr.state.String())
}

// finish marks the run completed and folds the WAL into the main file, so
// the run folder holds one self-contained database.
func (w *writer) finish(end time.Time) error {
	defer w.conn.Close()
	for _, in := range []*insert{w.taskIns, w.tryIns, w.statusIns, w.resourceIns, w.blockIns, w.nodeIns} {
		in.close()
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
