package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// writer turns events into rows. Only the Recorder's writer goroutine
// (and Close, after it ended) uses it, so it needs no lock.
//
// A task's row and its tries' rows hold its whole state, so the writer
// keeps each task in memory from its first event to its final state, and
// writes its rows once: when it reaches a final state, or once its
// earliest unwritten change is a FlushInterval old (a task that waits or
// runs long is written then, and again when it changes). A no-op task is
// written once, final; no event waits more than about two FlushIntervals
// before it is in the database.
type writer struct {
	r      *Recorder
	ctx    context.Context
	conn   *sql.Conn // the one connection: statements and transactions share it
	err    error     // the first failed write; the batches after it are dropped
	runKey int64     // starflow_run.run_key: the high bits of task_key

	tasks map[int]*taskRow // tasks not yet in a final state
	// due is what the next commit writes: tasks that reached a final
	// state, and tasks whose changes have waited long enough.
	due []*taskRow
	// waiting holds the tasks with unwritten changes in the order their
	// first unwritten change came; entries for tasks written since are
	// skipped when they reach the front.
	waiting []waitingTask

	resource []any
	blocks   []any
	nodes    []any
	args     []any          // the rows of one table, reused from commit to commit
	boxed    map[string]any // see box (commit.go)

	completed, failed int
	countsDirty       bool
	host              string

	res   resources // resource.go
	clock clock

	taskIns, taskMoreIns, tryIns, resourceIns, blockIns, nodeIns *insert
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
	last        int64 // the latest transition's time: the next is later
	failCount   int
	failCost    float64
	failHistory []string
	host        string
	try         *tryRow   // the latest try
	dirtyTries  []*tryRow // tries changed since the task was last written
	changed     int64     // when its earliest unwritten change came; 0: written
	isDue       bool      // in writer.due

	// The memo key (hex) and the bash app's log files: rare, so a row
	// without them is written without their columns (commit.go).
	hashsum, stdout, stderr string
}

// tryRow is the whole state of one try row.
type tryRow struct {
	task                        *taskRow
	try                         int
	executor                    string
	block, host, worker         string
	launched, running, returned int64
	joining                     int64
	failure                     string
	state                       dfk.State
	dirty                       bool
}

// waitingTask is a task with unwritten changes since changed.
type waitingTask struct {
	t       *taskRow
	changed int64
}

func newWriter(ctx context.Context, r *Recorder) (*writer, error) {
	conn, err := r.db.Conn(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("monitoring: %s: %w", r.opts.Path, err)
	}
	w := &writer{
		r: r, ctx: context.WithoutCancel(ctx), conn: conn,
		tasks: map[int]*taskRow{},
		boxed: map[string]any{},
		host:  hostname(),
	}
	w.res.init(r.opts.Resources, r.opts.ResourceInterval)
	if err := w.begin(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("monitoring: %s: record the run: %w", r.opts.Path, err)
	}
	id := r.runID
	w.taskIns = newInsert("task", taskCols, id)
	w.taskMoreIns = newInsert("task", append(taskCols[:len(taskCols):len(taskCols)], taskMoreCols...), id)
	w.tryIns = newInsert("try", tryCols, id)
	w.resourceIns = newInsert("resource", resourceCols, id)
	w.blockIns = newInsert("block", blockCols, id)
	w.nodeIns = newInsert("node", nodeCols, id)
	w.blockIns.verb = "INSERT OR IGNORE"
	return w, nil
}

// begin records the run: its workflow row, and its run_key, the next
// free one, chosen inside the transaction that claims it so that runs
// sharing a database at once get different keys.
func (w *writer) begin() (err error) {
	ctx, r := w.ctx, w.r
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
		}
	}()
	if err := w.conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(run_key) + 1, 0) FROM starflow_run").Scan(&w.runKey); err != nil {
		return err
	}
	if w.runKey >= MaxRuns {
		return fmt.Errorf("the database holds %d runs, the most one file can (give MonitoringHub a logging_endpoint of its own)", MaxRuns)
	}
	if _, err := w.conn.ExecContext(ctx, `INSERT INTO starflow_run (run_id, run_key) VALUES (?, ?)`, r.runID, w.runKey); err != nil {
		return err
	}
	_, err = w.conn.ExecContext(ctx, `INSERT INTO workflow (run_id, workflow_name, workflow_version,
		time_began, host, user, rundir) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.runID, r.opts.WorkflowName, nullString(r.opts.WorkflowVersion), FormatTime(time.Now()),
		w.host, username(), r.opts.RunDir)
	if err != nil {
		return err
	}
	_, err = w.conn.ExecContext(ctx, "COMMIT")
	return err
}

// apply turns a batch of events, and what the side queue held, into
// pending rows.
func (w *writer) apply(batch []event, s side) {
	for i := range batch {
		w.event(&batch[i])
	}
	w.side(s)
}

func (w *writer) event(e *event) {
	if e.note {
		w.note(e)
		return
	}
	t := w.tasks[e.id]
	if t == nil {
		t = &taskRow{id: e.id, app: e.app, kind: e.kind, executor: w.label(e.executor)}
		w.tasks[e.id] = t
	}
	// Each transition of a task gets a later microsecond than the one
	// before, so that the status view, ordered by time, lists them in the
	// kernel's order: two of them often share a microsecond.
	at := max(e.at, t.last+1000) / 1000 * 1000
	t.last = at
	t.state = e.state
	w.touch(t, e.at)
	switch e.state {
	case dfk.Pending:
		t.deps, t.memo, t.invoked = e.deps, e.memo, at
		if e.more != nil {
			t.stdout, t.stderr = e.more.stdout, e.more.stderr
		}
	case dfk.Launched:
		if prev := t.try; prev != nil && e.err != nil {
			// A retry: the kernel reports the failed try only here. The
			// failure (fail_retryable in the status view) takes this
			// microsecond and the new try the next, to keep their order.
			w.endTry(prev, dfk.Failed, at, e.err)
			t.failed(e.err)
			at += 1000
			t.last = at
		}
		tr := &tryRow{task: t, try: int(e.try), executor: t.executor, launched: at, state: dfk.Launched}
		t.try = tr
		t.touchTry(tr)
	case dfk.Running:
		tr := w.tryOf(t, e)
		tr.running, tr.state = at, dfk.Running
		t.running = at
		var where dfk.Where
		if e.more != nil {
			where = e.more.where
		}
		local := where == (dfk.Where{}) && !w.r.opts.Remote[t.executor]
		if local {
			tr.host = w.host
		} else {
			tr.block, tr.host, tr.worker = where.Block, where.Host, where.Worker
		}
		t.host = tr.host
		w.res.started(t, tr, local)
		t.touchTry(tr)
	case dfk.Joining:
		tr := w.tryOf(t, e)
		tr.joining, tr.state = at, dfk.Joining
		w.res.ended(tr)
		t.touchTry(tr)
	case dfk.ExecDone, dfk.MemoDone, dfk.Failed:
		// A task failed before any try (an interrupt while it waited)
		// gets no made-up try row.
		if t.try != nil || e.state != dfk.Failed {
			w.endTry(w.tryOf(t, e), e.state, at, e.err)
		}
		if e.state == dfk.Failed {
			t.failed(e.err)
		}
		w.final(t, at)
	case dfk.DepFail:
		if e.err != nil {
			t.failHistory = append(t.failHistory, e.err.Error())
		}
		w.final(t, at)
	}
}

// sample adds a resource row for every running try it can see; now is
// unix ns.
func (w *writer) sample(now int64) { w.res.sample(w, now) }

// label resolves the default executor's "" to its label.
func (w *writer) label(executor string) string {
	if executor == "" {
		return w.r.opts.DefaultExecutor
	}
	return executor
}

// tryOf is the try an event is about. A memo hit has none and gets none;
// a try the writer never saw launch (it cannot happen with the kernel's
// events) is made up rather than lost.
func (w *writer) tryOf(t *taskRow, e *event) *tryRow {
	if e.state == dfk.MemoDone && t.try == nil {
		return nil
	}
	if t.try == nil || t.try.try != int(e.try) {
		t.try = &tryRow{task: t, try: int(e.try), executor: t.executor}
	}
	return t.try
}

func (w *writer) endTry(tr *tryRow, s dfk.State, at int64, err error) {
	if tr == nil {
		return
	}
	tr.returned, tr.state = at, s
	if err != nil {
		tr.failure = err.Error()
	}
	w.res.ended(tr)
	tr.task.touchTry(tr)
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

// final records a task's last transition: it is written at the next
// commit and forgotten.
func (w *writer) final(t *taskRow, at int64) {
	t.returned = at
	if t.state == dfk.ExecDone || t.state == dfk.MemoDone {
		w.completed++
	} else {
		w.failed++
	}
	w.countsDirty = true
	delete(w.tasks, t.id)
	w.markDue(t)
}

// touch notes an unwritten change of t that came at now.
func (w *writer) touch(t *taskRow, now int64) {
	if t.changed == 0 {
		t.changed = now
		w.waiting = append(w.waiting, waitingTask{t, now})
	}
}

func (t *taskRow) touchTry(tr *tryRow) {
	if !tr.dirty {
		tr.dirty = true
		t.dirtyTries = append(t.dirtyTries, tr)
	}
}

func (w *writer) markDue(t *taskRow) {
	if !t.isDue {
		t.isDue = true
		w.due = append(w.due, t)
	}
}

// dueBy makes due every task whose earliest unwritten change came at or
// before cutoff (unix ns).
func (w *writer) dueBy(cutoff int64) {
	i := 0
	for ; i < len(w.waiting); i++ {
		wt := w.waiting[i]
		if wt.t.changed != wt.changed {
			continue // written since it was queued
		}
		if wt.changed > cutoff {
			break
		}
		w.markDue(wt.t)
	}
	clear(w.waiting[:i])
	w.waiting = w.waiting[i:]
}
