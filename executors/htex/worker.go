package htex

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/executors/mpi"
	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// WorkerConfig configures one worker process: what `starflow worker`
// gets from the provider's command line.
type WorkerConfig struct {
	// Addrs are the interchange's addresses (host:port), tried in order.
	Addrs []string
	RunID string
	// Secret is the run secret in hex, as the run folder's file holds it.
	Secret string
	// Fingerprint pins the interchange's certificate (hex SHA-256).
	Fingerprint string
	// Unencrypted is encrypted=False: plain TCP, no certificate.
	Unencrypted bool
	Hostname    string // "": os.Hostname
	BlockID     string
	Slots       int // tasks run at once: max_workers_per_node
	// Accelerators are shared among the slots round-robin.
	Accelerators []string
	DialTimeout  time.Duration // per address, handshake included; 10 s
	Logger       hclog.Logger
	// MPI, when set, is MPI mode (enable_mpi_mode): this worker is its
	// block's one manager and runs each task on whole nodes of the block.
	MPI *MPIConfig
}

// MPIConfig is a worker's MPI mode: its block's nodes and how a task
// starts its ranks on them.
type MPIConfig struct {
	Launcher mpi.Launcher
	Flavor   mpi.Flavor // of mpiexec, whose options differ by library
	Nodes    []string   // the block's, in the batch system's order
}

// SlotEnv describes the slot a task runs in.
type SlotEnv struct {
	Rank        int    // PARSL_WORKER_RANK: the slot's index in this worker
	Count       int    // PARSL_WORKER_COUNT: the worker's slots
	PoolID      string // PARSL_WORKER_POOL_ID: the interchange's id for this worker
	BlockID     string // PARSL_WORKER_BLOCK_ID
	Accelerator string // "" when the worker has none
	// MPI is the task's placement in MPI mode: its nodes and launcher
	// prefixes (PARSL_MPI_PREFIX and the rest).
	MPI []string
}

// Environ is the slot's environment as Parsl's workers set it.
func (s SlotEnv) Environ() []string {
	env := []string{
		"PARSL_WORKER_RANK=" + strconv.Itoa(s.Rank),
		"PARSL_WORKER_COUNT=" + strconv.Itoa(s.Count),
		"PARSL_WORKER_POOL_ID=" + s.PoolID,
		"PARSL_WORKER_BLOCK_ID=" + s.BlockID,
	}
	if a := s.Accelerator; a != "" {
		env = append(env, "CUDA_VISIBLE_DEVICES="+a, "ROCR_VISIBLE_DEVICES="+a,
			"ZE_AFFINITY_MASK="+a, "ZE_ENABLE_PCI_ID_DEVICE_ORDER=1")
	}
	return append(env, s.MPI...)
}

// Runner runs tasks on a worker (the Starlark side implements it). Run
// must honour ctx: it is cancelled when the interchange stops the worker.
// t.Bundle is shared with the worker's cache and must not be modified.
type Runner interface {
	Run(ctx context.Context, t *Task, env SlotEnv) *Result
}

// RefusedError is the interchange turning a worker away.
type RefusedError struct {
	Addr, Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("interchange at %s refused this worker: %s", e.Addr, e.Reason)
}

var (
	errStopped = errors.New("the interchange stopped the worker")
	errLost    = errors.New("interchange lost")
)

// RunWorker connects to the interchange and serves cfg.Slots slots until
// the interchange stops or drains it (nil), ctx ends (its cause) or the
// interchange is gone (an error); it does not reconnect. It says Bye
// whenever it leaves on its own terms. Cancel ctx with a *StopSignal
// when the process is told to stop by a signal: the tries it gives up
// are then lost with the block, not failed.
func RunWorker(ctx context.Context, cfg WorkerConfig, r Runner) error {
	secret, tlsCfg, err := cfg.check()
	if err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("htex-worker").With("block", cfg.BlockID)
	w, err := connect(ctx, cfg, secret, tlsCfg)
	if err != nil {
		return err
	}
	w.r, w.log = r, log
	log.Info("connected to the interchange", "manager", w.wel.ManagerID, "address", w.conn.RemoteAddr().String(), "slots", cfg.Slots)
	return w.serve(ctx)
}

func (cfg *WorkerConfig) check() ([]byte, *tls.Config, error) {
	if len(cfg.Addrs) == 0 {
		return nil, nil, errors.New("worker: no interchange address")
	}
	if cfg.Slots < 1 || cfg.Slots > maxSlots {
		return nil, nil, fmt.Errorf("worker: slots must be between 1 and %d, got %d", maxSlots, cfg.Slots)
	}
	secret, err := decodeSecret(cfg.Secret)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.MPI != nil && len(cfg.MPI.Nodes) == 0 {
		return nil, nil, errors.New("worker: MPI mode without nodes")
	}
	if cfg.Unencrypted {
		return secret, nil, nil
	}
	tlsCfg, err := clientTLS(cfg.Fingerprint)
	if err != nil {
		return nil, nil, fmt.Errorf("worker: %w", err)
	}
	return secret, tlsCfg, nil
}

// worker is one connected worker process.
type worker struct {
	cfg  WorkerConfig
	r    Runner
	log  hclog.Logger
	conn net.Conn
	rc   *deadlineConn
	fr   frameReader
	bw   *bufio.Writer
	wel  *welcome

	tasks   chan *Task
	bundles map[string][]byte // by hash; the reader's alone

	mu      sync.Mutex
	results []reply          // waiting for the writer
	samples []ResourceSample // likewise
	wake    chan struct{}
	byeSent bool // the writer's

	sampler *sampler // nil unless the interchange asked for resource samples

	stopped atomic.Bool // the interchange said stop, drain or bye
}

type reply struct {
	id, try int
	res     *Result
}

// connect tries each address; a refusal ends the search, since every
// address leads to the same interchange.
func connect(ctx context.Context, cfg WorkerConfig, secret []byte, tlsCfg *tls.Config) (*worker, error) {
	var errs []error
	for _, addr := range cfg.Addrs {
		w, err := handshake(ctx, cfg, addr, secret, tlsCfg)
		if err == nil {
			return w, nil
		}
		var refused *RefusedError
		if errors.As(err, &refused) || ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("worker: cannot reach the interchange: %w", errors.Join(errs...))
}

func handshake(ctx context.Context, cfg WorkerConfig, addr string, secret []byte, tlsCfg *tls.Config) (*worker, error) {
	d := net.Dialer{Timeout: cfg.DialTimeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	unhook := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer unhook()
	_ = raw.SetDeadline(time.Now().Add(cfg.DialTimeout))
	var conn net.Conn = raw
	fail := func(err error) (*worker, error) {
		_ = raw.Close()
		return nil, fmt.Errorf("interchange at %s: %w", addr, err)
	}
	if tlsCfg != nil {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(fmt.Errorf("TLS handshake: %w", err))
		}
		conn = tc
	}
	binding, err := channelBinding(conn)
	if err != nil {
		return fail(err)
	}
	h := &hello{Version: ProtocolVersion, RunID: cfg.RunID, Proof: helloProof(secret, cfg.RunID, binding),
		Hostname: cfg.Hostname, BlockID: cfg.BlockID, Slots: cfg.Slots, Accelerators: cfg.Accelerators,
		Cores: runtime.NumCPU(), Memory: uint64(procstat.MemTotal())}
	if _, err := conn.Write(appendFrame(nil, h)); err != nil {
		return fail(err)
	}
	rc := &deadlineConn{Conn: conn}
	fr := frameReader{r: bufio.NewReaderSize(rc, bufSize), limit: helloMaxFrame}
	t, body, err := fr.next()
	if err != nil {
		return fail(fmt.Errorf("no welcome: %w", err))
	}
	switch t {
	case msgRefuse:
		ref, err := decodeRefuse(body)
		_ = raw.Close()
		if err != nil {
			return nil, fmt.Errorf("interchange at %s: %w", addr, err)
		}
		return nil, &RefusedError{Addr: addr, Reason: ref.Reason}
	case msgWelcome:
	default:
		return fail(fmt.Errorf("expected welcome, got %v", t))
	}
	wel, err := decodeWelcome(body)
	if err != nil {
		return fail(err)
	}
	if wel.Capacity < cfg.Slots || wel.HeartbeatPeriod <= 0 || wel.HeartbeatThreshold <= 0 || wel.MaxFrame < helloMaxFrame {
		return fail(fmt.Errorf("welcome out of range: %+v", *wel))
	}
	if !unhook() {
		return fail(context.Cause(ctx))
	}
	_ = raw.SetDeadline(time.Time{})
	rc.timeout = wel.HeartbeatThreshold
	fr.limit = wel.MaxFrame
	return &worker{
		cfg: cfg, conn: conn, rc: rc, fr: fr, wel: wel,
		bw:      bufio.NewWriterSize(&deadlineConn{Conn: conn, timeout: wel.HeartbeatThreshold}, bufSize),
		tasks:   make(chan *Task, wel.Capacity),
		bundles: make(map[string][]byte),
		wake:    make(chan struct{}, 1),
	}, nil
}

// serve runs the slots, the reader and the writer until the worker ends.
// The slots end first; then the writer sends their last results and Bye
// (at once on a stop signal); then the reader sees the interchange hang up.
func (w *worker) serve(ctx context.Context) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	readErr := make(chan error, 1)
	go func() { readErr <- w.read(runCtx, cancel) }()
	stopSampling := w.startSampling(runCtx)
	var slots sync.WaitGroup
	if w.cfg.MPI != nil {
		slots.Go(func() { w.dispatchMPI(runCtx, ctx) })
	} else {
		for rank := range w.cfg.Slots {
			slots.Go(func() { w.slot(runCtx, ctx, rank) })
		}
	}
	quit, written := make(chan struct{}), make(chan struct{})
	leave := sync.OnceFunc(func() { close(quit) })
	defer leaveOnStop(ctx, leave)()
	go w.write(quit, written)

	slots.Wait()
	stopSampling()
	leave()
	<-written
	if !w.byeSent {
		_ = w.conn.Close()
	}
	// After a Bye, the interchange reads it and hangs up first; the
	// reader's deadline bounds the wait.
	err := <-readErr
	_ = w.conn.Close()
	switch {
	case w.stopped.Load():
		w.log.Info("worker stopped by the interchange")
		return nil
	case ctx.Err() != nil:
		if stopping(ctx) {
			w.log.Info("worker stopped by a signal; the tasks it gave up are lost with it, not failed", "cause", context.Cause(ctx))
		}
		return context.Cause(ctx)
	}
	w.log.Warn("interchange lost", "error", err)
	return fmt.Errorf("worker: %w: %w", errLost, err)
}

// read handles the interchange's frames until the connection ends.
func (w *worker) read(ctx context.Context, cancel context.CancelCauseFunc) error {
	open := true
	closeTasks := func() {
		if open {
			open = false
			close(w.tasks)
		}
	}
	defer closeTasks()
	for {
		t, body, err := w.fr.next()
		if err != nil {
			cancel(errLost)
			return err
		}
		switch t {
		case msgTask:
			task, err := decodeTask(body)
			if err != nil {
				cancel(errLost)
				return err
			}
			if err := w.fillBundle(task); err != nil {
				w.reply(task, &Result{Err: &RemoteError{Kind: "WorkerError", Message: err.Error()}})
				continue
			}
			if !open {
				w.reply(task, &Result{Err: &RemoteError{Kind: "WorkerError", Message: "task sent to a draining worker"}})
				continue
			}
			select {
			case w.tasks <- task:
			case <-ctx.Done(): // the interchange counts it lost when we leave
			}
		case msgHeartbeat:
		case msgDrain:
			w.stopped.Store(true)
			closeTasks()
		case msgStop, msgBye:
			w.stopped.Store(true)
			cancel(errStopped)
			closeTasks()
		default:
			cancel(errLost)
			return fmt.Errorf("%w frame: unexpected %v from the interchange", errMalformed, t)
		}
	}
}

// fillBundle caches a bundle that came with a task, or supplies one that
// came before.
func (w *worker) fillBundle(t *Task) error {
	if t.BundleHash == "" {
		return nil
	}
	if t.Bundle != nil {
		w.bundles[t.BundleHash] = t.Bundle
		return nil
	}
	b, ok := w.bundles[t.BundleHash]
	if !ok {
		return fmt.Errorf("bundle %s was never sent to this worker", t.BundleHash)
	}
	t.Bundle = b
	return nil
}

// slot runs tasks one at a time until ctx ends or the tasks stop coming;
// proc is the worker's own context, whose cause says whether a failure
// is the app's or the stopping block's.
func (w *worker) slot(ctx, proc context.Context, rank int) {
	env := SlotEnv{Rank: rank, Count: w.cfg.Slots, PoolID: strconv.FormatUint(w.wel.ManagerID, 10), BlockID: w.cfg.BlockID}
	if n := len(w.cfg.Accelerators); n > 0 {
		env.Accelerator = w.cfg.Accelerators[rank%n]
	}
	for {
		select {
		case t, ok := <-w.tasks:
			if !ok || ctx.Err() != nil {
				return
			}
			w.answer(proc, t, w.run(ctx, t, env))
		case <-ctx.Done():
			return
		}
	}
}

// mpiTask is a task waiting in MPI mode's queue, with what it asked for.
type mpiTask struct {
	t    *Task
	spec mpi.Spec
}

// dispatchMPI stands in for the slots in MPI mode. It queues each task
// until enough of the block's nodes are free (mpi.Queue decides which
// task goes next), runs it in a free slot with its nodes' launcher
// prefixes in its environment, and gives the nodes back when it ends. It
// returns once the tasks have stopped coming and every task it started
// is done; when ctx ends, queued tasks are abandoned, and the interchange
// counts them lost with this worker. proc is as for slot.
func (w *worker) dispatchMPI(ctx, proc context.Context) {
	m := w.cfg.MPI
	q := mpi.NewQueue[mpiTask](m.Nodes)
	type ended struct {
		rank  int
		nodes []string
	}
	finished := make(chan ended)
	ranks := make([]int, 0, w.cfg.Slots) // free slots, used last-in first-out
	for r := w.cfg.Slots - 1; r >= 0; r-- {
		ranks = append(ranks, r)
	}
	pool := strconv.FormatUint(w.wel.ManagerID, 10)
	tasks, stop, running := w.tasks, ctx.Done(), 0
	for {
		for ctx.Err() == nil && len(ranks) > 0 {
			mt, nodes, ok := q.Pop()
			if !ok {
				break
			}
			rank := ranks[len(ranks)-1]
			ranks = ranks[:len(ranks)-1]
			running++
			env := SlotEnv{Rank: rank, Count: w.cfg.Slots, PoolID: pool, BlockID: w.cfg.BlockID,
				MPI: mpi.Environ(m.Launcher, m.Flavor, mt.spec, nodes)}
			w.log.Debug("MPI task placed", "task_id", mt.t.ID, "nodes", strings.Join(nodes, ","))
			go func() {
				w.answer(proc, mt.t, w.run(ctx, mt.t, env))
				finished <- ended{rank, nodes}
			}()
		}
		if running == 0 && (tasks == nil && q.Len() == 0 || ctx.Err() != nil) {
			return
		}
		select {
		case t, ok := <-tasks:
			if !ok {
				tasks = nil
				continue
			}
			if mt, err := w.mpiRequest(t, q.Nodes()); err != nil {
				w.reply(t, &Result{Err: err})
			} else {
				q.Push(mt, mt.spec.Nodes)
			}
		case e := <-finished:
			running--
			ranks = append(ranks, e.rank)
			q.Release(e.nodes)
		case <-stop:
			tasks, stop = nil, nil // from now on, only wait for the running tasks
		}
	}
}

// mpiRequest reads the resources a task asked for (its spec travels in
// its environment) and refuses what this block cannot run.
func (w *worker) mpiRequest(t *Task, blockNodes int) (mpiTask, *RemoteError) {
	spec, ok, err := mpi.SpecFromEnv(t.Env)
	switch {
	case err != nil:
		return mpiTask{}, &RemoteError{Kind: "InvalidResourceSpecification", Message: err.Error()}
	case !ok:
		return mpiTask{}, &RemoteError{Kind: "MissingResourceSpecification",
			Message: mpi.ErrorPrefix + "this worker is in MPI mode and the task gave none; call the app with parsl_resource_specification={\"num_nodes\": ..., \"ranks_per_node\": ...}"}
	case spec.Nodes > blockNodes:
		return mpiTask{}, &RemoteError{Kind: "InvalidResourceSpecification",
			Message: fmt.Sprintf("%snum_nodes is %d but this block has %d node(s): %s", mpi.ErrorPrefix, spec.Nodes, blockNodes, strings.Join(w.cfg.MPI.Nodes, ","))}
	}
	return mpiTask{t: t, spec: spec}, nil
}

// run calls the Runner; a panic fails the task, not the worker and every
// other task it holds.
func (w *worker) run(ctx context.Context, t *Task, env SlotEnv) (res *Result) {
	defer func() {
		if p := recover(); p != nil {
			res = &Result{Err: &RemoteError{Kind: "WorkerPanic", Message: fmt.Sprint(p), Traceback: string(debug.Stack())}}
		}
	}()
	if w.sampler != nil {
		w.sampler.start(env.Rank, t)
		defer w.sampler.end(env.Rank)
	}
	if res = w.r.Run(ctx, t, env); res == nil {
		res = &Result{Err: &RemoteError{Kind: "WorkerError", Message: "the runner returned no result"}}
	}
	return res
}

// reply queues a task's result for the writer. Slots do not write
// themselves: while the writer is busy with one flush, the results of
// other slots pile up and share the next.
func (w *worker) reply(t *Task, res *Result) {
	w.mu.Lock()
	w.results = append(w.results, reply{t.ID, t.Try, res})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// write sends results and heartbeats; on quit it sends what is left and
// Bye. After a write error it closes the connection, which ends the
// reader, and only discards until quit.
func (w *worker) write(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(w.wel.HeartbeatPeriod)
	defer tick.Stop()
	var (
		pending []reply
		samples []ResourceSample
		frames  []byte
		broken  bool
	)
	for {
		last := false
		select {
		case <-w.wake:
		case <-tick.C:
			frames = appendFrame(frames, control(msgHeartbeat))
		case <-quit:
			last = true
		}
		for {
			w.mu.Lock()
			pending, w.results = w.results, pending[:0]
			samples, w.samples = w.samples, samples[:0]
			w.mu.Unlock()
			for _, r := range pending {
				frames = w.appendResult(frames, r.id, r.try, r.res)
			}
			clear(pending)
			for rest := samples; len(rest) > 0; {
				n := min(len(rest), maxSamplesPerFrame)
				frames = appendFrame(frames, &resources{Samples: rest[:n]})
				rest = rest[n:]
			}
			if len(frames) == 0 {
				break
			}
			if !broken {
				if _, err := w.bw.Write(frames); err != nil {
					broken = true
					_ = w.conn.Close()
				}
			}
			if cap(frames) > 1<<20 {
				frames = nil // do not keep one large result's size around
			}
			frames = frames[:0]
			select {
			case <-w.wake: // more results came while we wrote: same flush
				continue
			default:
			}
			break
		}
		if last && !broken {
			_, _ = w.bw.Write(appendFrame(frames[:0], control(msgBye)))
			w.byeSent = true
		}
		if !broken && w.bw.Buffered() > 0 {
			if err := w.bw.Flush(); err != nil {
				broken = true
				w.byeSent = false
				_ = w.conn.Close()
			}
		}
		if last {
			return
		}
	}
}

// appendResult encodes a result, or an error saying it was too large to
// send: a worker must not break its connection over one task's output.
func (w *worker) appendResult(frames []byte, id, try int, res *Result) []byte {
	start := len(frames)
	frames = append(frames, byte(msgResult), 0, 0, 0, 0)
	frames = appendResult(frames, res, id, try)
	size := len(frames) - start - headerSize
	if size > w.wel.MaxFrame {
		tooBig := &Result{Err: &RemoteError{Kind: "WorkerError",
			Message: fmt.Sprintf("the result encodes to %d bytes, above the frame limit of %d", size, w.wel.MaxFrame)}}
		frames = append(frames[:start], byte(msgResult), 0, 0, 0, 0)
		frames = appendResult(frames, tooBig, id, try)
		size = len(frames) - start - headerSize
	}
	putLen(frames[start:], size)
	return frames
}
