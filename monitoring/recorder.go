package monitoring

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/dfk"
)

// DefaultFlushInterval is how long a change to a task that has not ended
// waits in memory before it is written (a task that ends is written at
// the next batch): a crash loses the changes of the last one or two
// intervals at most. Parsl batches for one second too.
const DefaultFlushInterval = time.Second

// DefaultResourceInterval is Parsl's resource_monitoring_interval.
const DefaultResourceInterval = 30 * time.Second

const (
	// wakeAt is the backlog that wakes the writer before its interval:
	// enough events that a transaction's fixed cost is spread over a
	// thousand tasks, few enough that the writer works while the run
	// goes rather than in one long transaction at its end.
	wakeAt = 1 << 12
	// maxBacklog bounds memory when tasks finish faster than SQLite can
	// write them (a no-op task does, several times over): producers then
	// wait for the writer. The two buffers that hold the backlog are made
	// this size up front (1.7 MB each): grown by append instead, copying
	// them cost TaskEvent, on the kernel's side, two thirds of its time.
	maxBacklog = 1 << 14
)

// Options configure a Recorder.
type Options struct {
	Path            string // the database file, runinfo/NNN/monitoring.db
	RunDir          string // workflow.rundir
	WorkflowName    string // workflow.workflow_name: the script's name unless the user named it
	WorkflowVersion string
	// DefaultExecutor is the label of the executor a task with no
	// executor of its own ("" in dfk.Event) runs on.
	DefaultExecutor string
	// Remote holds the labels of executors whose tries run in other
	// processes (HTEX workers): their resources are not sampled here
	// (their workers sample them: RemoteSamples).
	Remote map[string]bool
	// Resources enables resource monitoring: a bash try's process group
	// gets a row when it ends, and with ResourceInterval > 0 every
	// running try's processes are sampled that often.
	Resources        bool
	ResourceInterval time.Duration
	FlushInterval    time.Duration // 0: DefaultFlushInterval
	Logger           hclog.Logger  // nil: discard
	Debug            bool          // log every batch written (MonitoringHub's monitoring_debug)
}

// Recorder is a dfk.Observer that records a run into its monitoring
// database. TaskEvent only copies the event into memory; a writer
// goroutine, started by NewRecorder and stopped by Close, folds the
// events into each task's rows and writes the tasks that ended, and those
// that changed a FlushInterval ago, in one transaction per batch. The
// database is in WAL mode, so a crash loses only what was not written yet
// and leaves the file readable.
type Recorder struct {
	opts    Options
	runID   string
	epoch   time.Time // when it started, with its monotonic reading
	epochNS int64     // epoch in unix nanoseconds
	log     hclog.Logger
	db      *sql.DB

	mu     sync.Mutex
	full   *sync.Cond // producers wait here while the backlog is at maxBacklog
	buf    []event
	closed bool

	side sideQueue // bash process groups, workers' samples, blocks and nodes (resource.go)

	wake chan struct{} // capacity 1: the backlog reached wakeAt
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the writer has written everything

	w *writer // owned by the writer goroutine

	closeOnce sync.Once
	closeErr  error
}

var _ dfk.Observer = (*Recorder)(nil)

// event is a dfk.Event copied off the hot path: the writer formats it.
type event struct {
	at       int64 // unix nanoseconds
	id       int
	try      int32
	state    dfk.State
	kind     dfk.Kind
	memo     bool
	app      string
	executor string
	deps     []int // the kernel allocates them for this event and never changes them
	err      error
	// note says the event is no transition: it carries a memoized task's
	// key (TaskKey).
	note bool
	more *eventMore // what few events carry; nil for most
}

// eventMore holds what only some events carry, out of line so that the
// backlog of events stays small to copy.
type eventMore struct {
	where          dfk.Where // where a Running try runs, when the executor said
	stdout, stderr string    // a bash app's log files, on Pending
	key            dfk.Key   // a memoized task's key, on a note
	hasKey         bool
}

// NewRecorder creates the database at opts.Path, records the run's start
// and starts the writer.
func NewRecorder(ctx context.Context, opts Options) (*Recorder, error) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	db, err := OpenWrite(ctx, opts.Path)
	if err != nil {
		return nil, err
	}
	r := &Recorder{
		opts:  opts,
		runID: newRunID(),
		epoch: time.Now(),
		log:   opts.Logger,
		db:    db,
		buf:   make([]event, 0, maxBacklog),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	r.epochNS = r.epoch.UnixNano()
	r.full = sync.NewCond(&r.mu)
	r.w, err = newWriter(ctx, r)
	if err != nil {
		db.Close()
		return nil, err
	}
	go r.run()
	return r, nil
}

// now is the time in unix nanoseconds, read from the monotonic clock
// since the recorder started: one clock read where time.Now makes two, on
// the kernel's path four times a task. A run's timestamps are then
// consistent with each other even if the wall clock is set meanwhile.
func (r *Recorder) now() int64 { return r.epochNS + int64(time.Since(r.epoch)) }

// RunID is workflow.run_id (a random UUID, as Parsl's).
func (r *Recorder) RunID() string { return r.runID }

// TaskEvent records one transition. It never does I/O; it waits only when
// the writer is maxBacklog events behind.
func (r *Recorder) TaskEvent(e dfk.Event) {
	ev := event{at: r.now(), id: e.ID, try: int32(e.Try), state: e.State, kind: e.Kind,
		memo: e.Memo, app: e.App, executor: e.Executor, deps: e.Deps, err: e.Err}
	if e.Where != (dfk.Where{}) || e.Stdout != "" || e.Stderr != "" {
		ev.more = &eventMore{where: e.Where, stdout: e.Stdout, stderr: e.Stderr}
	}
	r.push(ev)
}

// push queues an event for the writer.
func (r *Recorder) push(ev event) {
	r.mu.Lock()
	for len(r.buf) >= maxBacklog && !r.closed {
		r.full.Wait()
	}
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.buf = append(r.buf, ev)
	n := len(r.buf)
	r.mu.Unlock()
	if n == wakeAt {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// take hands the writer the backlog and gives producers spare to fill.
func (r *Recorder) take(spare []event) []event {
	r.mu.Lock()
	out := r.buf
	r.buf = spare[:0]
	r.full.Broadcast()
	r.mu.Unlock()
	return out
}

// run is the writer goroutine.
func (r *Recorder) run() {
	defer close(r.done)
	flush := time.NewTicker(r.opts.FlushInterval)
	defer flush.Stop()
	var sample <-chan time.Time
	if r.opts.Resources && r.opts.ResourceInterval > 0 {
		t := time.NewTicker(r.opts.ResourceInterval)
		defer t.Stop()
		sample = t.C
	}
	spare := make([]event, 0, maxBacklog)
	for {
		stopping := false
		sampleNow := false
		select {
		case <-r.stop:
			stopping = true
		case <-r.wake:
		case <-flush.C:
		case <-sample:
			sampleNow = true
		}
		batch := r.take(spare)
		r.w.apply(batch, r.side.take())
		now := r.now()
		if sampleNow {
			r.w.sample(now)
		}
		r.w.commit(now - r.opts.FlushInterval.Nanoseconds())
		clear(batch) // drop references to errors and deps
		spare = batch
		if stopping {
			return
		}
	}
}

// Close writes what is left, marks the run completed and closes the
// database. Events after Close are dropped. It is safe to
// call more than once.
func (r *Recorder) Close() error {
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
		r.mu.Lock()
		r.closed = true
		r.full.Broadcast()
		r.mu.Unlock()
		// Events that arrived between the writer's last take and closed.
		r.w.apply(r.take(nil), r.side.take())
		r.w.flush()
		r.closeErr = errors.Join(r.w.err, r.w.finish(time.Now()), r.db.Close())
		if r.closeErr != nil {
			r.closeErr = fmt.Errorf("monitoring: %s: %w", r.opts.Path, r.closeErr)
		}
	})
	return r.closeErr
}

// newRunID returns a random version 4 UUID, the form Parsl's run ids take.
func newRunID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

func username() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}
