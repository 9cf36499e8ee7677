package htex

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/starflow-hpc/starflow/dfk"
)

// Call is what a dfk.Job's Payload implements to run remotely (the
// Starlark side implements it).
type Call interface {
	// Encode is called when the job is dispatched to a worker, after its
	// dependencies are done. An error fails the try with it, so it should
	// name what could not travel.
	Encode() (*Task, error)
	// Decode turns the worker's result into the try's outcome.
	Decode(res *Result) (value any, err error)
}

// ManagerLost is the error of a try whose worker was lost while it held
// the try: its connection dropped or it fell silent beyond the heartbeat
// threshold. The try may never have started, so retrying is safe.
type ManagerLost struct {
	ManagerID uint64
	Hostname  string
	BlockID   string
	Reason    string
}

// KindWorkerStopped is the RemoteError.Kind of a result for a task given
// up because the worker's own process was told to stop (SIGTERM from the
// batch system). starflow's worker no longer sends it: it says goodbye and
// leaves such tries unanswered, which the interchange treats as lost (a
// reported result would free a slot the interchange refills on the dying
// worker). The kind stays as a fallback for runners that return it: the
// try fails with ManagerLost and is retried without spending retries.
const KindWorkerStopped = "WorkerStopped"

// ResourceLost tells the kernel the try was lost with its worker, not
// failed by the task: it is retried without spending the task's retries.
func (e *ManagerLost) ResourceLost() bool { return true }

func (e *ManagerLost) Error() string {
	return fmt.Sprintf("manager lost: worker %d on host %s (block %s): %s",
		e.ManagerID, e.Hostname, e.BlockID, e.Reason)
}

// Config configures one HighThroughputExecutor's interchange. The names
// follow Parsl's where Parsl has them.
type Config struct {
	Label string
	// RunID names the run; workers must present the same. Empty: random.
	RunID string
	// RunDir is the run folder: the secret and certificate are written
	// under RunDir/htex/<label>/ with mode 0600. Empty: not written.
	RunDir string
	// Address is the interface the interchange listens on; "" means all.
	Address string
	// PortRange is interchange_port_range, inclusive. Zero: any free port.
	PortRange [2]int
	// Unencrypted is encrypted=False: plain TCP, for debugging only.
	Unencrypted bool
	// PrefetchCapacity is how many tasks a worker may hold beyond its slots.
	PrefetchCapacity int
	// HeartbeatPeriod and HeartbeatThreshold (Parsl: 30 s and 120 s): each
	// side sends a heartbeat every period and gives up on a peer silent
	// for the threshold.
	HeartbeatPeriod    time.Duration
	HeartbeatThreshold time.Duration
	// HandshakeTimeout bounds a connection's time to prove itself (10 s).
	HandshakeTimeout time.Duration
	// MaxFrame bounds a frame after the handshake (DefaultMaxFrame).
	MaxFrame int
	Logger   hclog.Logger

	// ResourceInterval, when positive, asks every worker to sample the
	// processes of the tries it runs that often (the MonitoringHub's
	// resource_monitoring_interval); OnResources receives the samples.
	ResourceInterval time.Duration
	// OnResources is given each batch of samples a worker sends, with
	// where the worker is. It runs on the connection's reader and must
	// not block; the samples are its to keep.
	OnResources func(where dfk.Where, samples []ResourceSample)
	// OnWorker, when set, is told when a worker registers and when it
	// goes, for the monitoring database's node rows. Like OnResources it
	// must not block.
	OnWorker func(WorkerEvent)
}

// WorkerEvent is a worker that registered or went.
type WorkerEvent struct {
	Where  dfk.Where // its block, host and id (Where.Worker)
	Cores  int       // of its node; 0 when unknown
	Memory uint64    // bytes, of its node; 0 when unknown
	Slots  int
	Active bool // false once it went
	At     time.Time
}

// Endpoint is what a worker needs to reach this interchange.
type Endpoint struct {
	Port        int
	RunID       string
	Unencrypted bool
	Fingerprint string // hex SHA-256 of the certificate; "" when unencrypted
	Secret      string // hex, as in SecretFile; never log it
	SecretFile  string // "" without a RunDir
	CertFile    string
}

// Executor is the interchange: it implements dfk.Executor by sending each
// job to a registered worker with a free slot.
type Executor struct {
	cfg   Config
	log   hclog.Logger
	creds *credentials
	tls   *tls.Config
	ln    net.Listener
	ep    Endpoint

	runCtx context.Context // the kernel's: cancelled on interrupt
	stop   context.Context // cancelled by Shutdown
	halt   context.CancelFunc

	mu       sync.Mutex
	queue    []*dfk.Job // queue[head:] waits for a worker
	head     int
	idle     []*manager // workers with free capacity and nothing to send
	managers map[uint64]*manager
	blocks   map[string]*blockTally // every block a worker ever registered from
	lastID   uint64
	closed   error // non-nil: Submit fails jobs with it
	stopping bool

	wg sync.WaitGroup // every goroutine the executor starts
}

var _ dfk.Executor = (*Executor)(nil)

// New checks cfg and fills Parsl's defaults. Nothing listens until Start.
func New(cfg Config) (*Executor, error) {
	if cfg.Label == "" || strings.ContainsAny(cfg.Label, `/\`) || cfg.Label == "." || cfg.Label == ".." {
		return nil, fmt.Errorf("htex: label %q must be a non-empty name without slashes", cfg.Label)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("htex %q: "+format, append([]any{cfg.Label}, args...)...)
	}
	if cfg.HeartbeatPeriod == 0 {
		cfg.HeartbeatPeriod = 30 * time.Second
	}
	if cfg.HeartbeatThreshold == 0 {
		cfg.HeartbeatThreshold = 120 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	switch lo, hi := cfg.PortRange[0], cfg.PortRange[1]; {
	case lo < 0 || hi > 65535 || lo > hi:
		return nil, bad("interchange_port_range %d-%d is not a range of ports", lo, hi)
	case lo == 0 && hi != 0:
		return nil, bad("interchange_port_range %d-%d starts at 0", lo, hi)
	}
	if cfg.PrefetchCapacity < 0 {
		return nil, bad("prefetch_capacity must be at least 0, got %d", cfg.PrefetchCapacity)
	}
	if cfg.HeartbeatPeriod < 0 || cfg.HeartbeatThreshold <= cfg.HeartbeatPeriod {
		return nil, bad("heartbeat_threshold (%v) must exceed heartbeat_period (%v)", cfg.HeartbeatThreshold, cfg.HeartbeatPeriod)
	}
	if cfg.ResourceInterval < 0 {
		return nil, bad("resource monitoring interval must be 0 or more, got %v", cfg.ResourceInterval)
	}
	if cfg.MaxFrame < helloMaxFrame || cfg.MaxFrame > 1<<31-1 {
		return nil, bad("frame limit %d is outside %d..%d", cfg.MaxFrame, helloMaxFrame, 1<<31-1)
	}
	if cfg.RunID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.RunID = hex.EncodeToString(b[:])
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	e := &Executor{cfg: cfg, log: log.Named("htex").With("executor", cfg.Label), managers: make(map[uint64]*manager),
		blocks: make(map[string]*blockTally)}
	e.stop, e.halt = context.WithCancel(context.Background())
	return e, nil
}

// Label is the executor's label.
func (e *Executor) Label() string { return e.cfg.Label }

// Endpoint says how workers reach the interchange; valid after Start.
func (e *Executor) Endpoint() Endpoint { return e.ep }

// Start makes the run's credentials, writes them to the run folder and
// starts listening. ctx is the run's: once it is cancelled, jobs that have
// not reached a worker fail with its cause.
func (e *Executor) Start(ctx context.Context) error {
	creds, err := newCredentials(!e.cfg.Unencrypted)
	if err != nil {
		return fmt.Errorf("htex %q: %w", e.cfg.Label, err)
	}
	e.creds, e.runCtx = creds, ctx
	e.ep = Endpoint{RunID: e.cfg.RunID, Unencrypted: e.cfg.Unencrypted,
		Fingerprint: creds.fingerprint, Secret: hex.EncodeToString(creds.secret)}
	if creds.cert != nil {
		e.tls = creds.serverTLS()
	}
	if e.cfg.RunDir != "" {
		dir := filepath.Join(e.cfg.RunDir, "htex", e.cfg.Label)
		if e.ep.SecretFile, e.ep.CertFile, err = creds.writeRunFiles(dir); err != nil {
			return fmt.Errorf("htex %q: %w", e.cfg.Label, err)
		}
	}
	if e.ln, err = e.listen(); err != nil {
		return fmt.Errorf("htex %q: %w", e.cfg.Label, err)
	}
	e.ep.Port = e.ln.Addr().(*net.TCPAddr).Port
	if e.cfg.Unencrypted {
		e.log.Warn("encrypted=False: the interchange speaks plain TCP; anyone on the network can read tasks and results",
			"address", e.ln.Addr().String())
	}
	e.log.Info("interchange listening", "address", e.ln.Addr().String(), "run_id", e.cfg.RunID)
	e.wg.Add(3)
	go e.acceptLoop()
	go e.heartbeats()
	go e.watchRun()
	return nil
}

// listen takes the first free port of the range, starting at a random one
// so that runs sharing a node do not race for the same port.
func (e *Executor) listen() (net.Listener, error) {
	lo, hi := e.cfg.PortRange[0], e.cfg.PortRange[1]
	n := hi - lo + 1
	start := 0
	if n > 1 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		start = int(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) % n
	}
	var lastErr error
	for i := range n {
		port := lo + (start+i)%n
		ln, err := net.Listen("tcp", net.JoinHostPort(e.cfg.Address, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	if n == 1 {
		return nil, fmt.Errorf("interchange cannot listen: %w", lastErr)
	}
	return nil, fmt.Errorf("interchange_port_range %d-%d: no free port on %q (last: %w)", lo, hi, e.cfg.Address, lastErr)
}

// Submit queues a job for the next worker with a free slot.
func (e *Executor) Submit(job *dfk.Job) {
	if _, ok := job.Payload.(Call); !ok {
		job.Started()
		job.Finish(nil, fmt.Errorf("htex executor %q: the task carries no remote call (payload %T), so it cannot run on a worker", e.cfg.Label, job.Payload))
		return
	}
	e.mu.Lock()
	if err := e.closed; err != nil {
		e.mu.Unlock()
		job.Started()
		job.Finish(nil, err)
		return
	}
	e.queue = append(e.queue, job)
	m := e.popIdle()
	e.mu.Unlock()
	if m != nil {
		m.signal()
	}
}

// popIdle takes a worker waiting for work; e.mu is held.
func (e *Executor) popIdle() *manager {
	n := len(e.idle)
	if n == 0 {
		return nil
	}
	m := e.idle[n-1]
	e.idle[n-1] = nil
	e.idle = e.idle[:n-1]
	m.idle = false
	return m
}

// take moves up to n queued jobs to batch; e.mu is held.
func (e *Executor) take(batch []*dfk.Job, n int) []*dfk.Job {
	n = min(n, len(e.queue)-e.head)
	batch = append(batch, e.queue[e.head:e.head+n]...)
	clear(e.queue[e.head : e.head+n])
	e.head += n
	switch {
	case e.head == len(e.queue):
		e.queue, e.head = e.queue[:0], 0
	case e.head > 4096 && e.head*2 > len(e.queue):
		// Reclaim the consumed front of a long queue.
		k := copy(e.queue, e.queue[e.head:])
		clear(e.queue[k:])
		e.queue, e.head = e.queue[:k], 0
	}
	return batch
}

// drainQueue empties the queue and marks the executor closed with err;
// the caller finishes the jobs it gets, outside e.mu.
func (e *Executor) drainQueue(err error) []*dfk.Job {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed == nil {
		e.closed = err
	}
	return e.take(nil, len(e.queue)-e.head)
}

func failAll(jobs []*dfk.Job, err error) {
	for _, j := range jobs {
		j.Started()
		j.Finish(nil, err)
	}
}

// watchRun fails the queued jobs once the run is interrupted: they will
// not be sent, and in-flight ones end when Shutdown stops the workers.
func (e *Executor) watchRun() {
	defer e.wg.Done()
	select {
	case <-e.runCtx.Done():
		failAll(e.drainQueue(context.Cause(e.runCtx)), context.Cause(e.runCtx))
	case <-e.stop.Done():
	}
}

// heartbeats asks every writer to send a heartbeat each period.
func (e *Executor) heartbeats() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.HeartbeatPeriod)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-e.stop.Done():
			return
		}
		e.mu.Lock()
		for _, m := range e.managers {
			m.heartbeatDue.Store(true)
			m.signal()
		}
		e.mu.Unlock()
	}
}

// Shutdown fails the jobs still queued, sends Stop to every worker and
// waits, at most until ctx ends or a heartbeat threshold passes, for them
// to say Bye; then it drops the stragglers.
func (e *Executor) Shutdown(ctx context.Context) error {
	if e.ln == nil { // never started
		e.halt()
		return nil
	}
	shutErr := fmt.Errorf("htex executor %q is shut down", e.cfg.Label)
	if cause := context.Cause(e.runCtx); cause != nil {
		shutErr = cause
	}
	queued := e.drainQueue(shutErr)
	e.mu.Lock()
	e.stopping = true
	ms := make([]*manager, 0, len(e.managers))
	for _, m := range e.managers {
		ms = append(ms, m)
	}
	e.mu.Unlock()
	e.halt()
	_ = e.ln.Close()
	failAll(queued, shutErr)
	for _, m := range ms {
		m.stopRequested.Store(true)
		m.signal()
	}

	gone, err := e.waitGone(ctx, ms)
	if !gone {
		for _, m := range ms {
			_ = m.conn.Close()
		}
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("htex executor %q: goroutines still running: %w", e.cfg.Label, context.Cause(ctx))
		}
	}
	e.log.Info("interchange stopped")
	return err
}

// waitGone waits for the workers to leave, at most until ctx ends or a
// heartbeat threshold has passed: a worker that still heartbeats but does
// not stop (a task ignoring cancellation) must not hold the run open.
func (e *Executor) waitGone(ctx context.Context, ms []*manager) (bool, error) {
	grace := time.NewTimer(e.cfg.HeartbeatThreshold)
	defer grace.Stop()
	for _, m := range ms {
		select {
		case <-m.done:
		case <-ctx.Done():
			return false, fmt.Errorf("htex executor %q: workers did not stop: %w", e.cfg.Label, context.Cause(ctx))
		case <-grace.C:
			e.log.Warn("workers did not say bye within heartbeat_threshold; dropping them")
			return false, nil
		}
	}
	return true, nil
}

// ManagerInfo describes a registered worker, for scaling decisions.
type ManagerInfo struct {
	ID           uint64
	Hostname     string
	BlockID      string
	Slots        int
	Accelerators []string
	InFlight     int // tasks sent and not yet answered
	Draining     bool
	Registered   time.Time
}

// Managers lists the registered workers.
func (e *Executor) Managers() []ManagerInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]ManagerInfo, 0, len(e.managers))
	for _, m := range e.managers {
		out = append(out, ManagerInfo{ID: m.id, Hostname: m.hello.Hostname, BlockID: m.hello.BlockID,
			Slots: m.hello.Slots, Accelerators: m.hello.Accelerators, InFlight: int(m.busy.Load()),
			Draining: m.draining, Registered: m.registered})
	}
	return out
}

// Joined reports whether a worker of the block ever registered, even if
// it is gone since: a block whose worker was lost after joining did not
// fail to launch, whatever its exit status.
func (e *Executor) Joined(blockID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.blocks[blockID] != nil
}

// blockTally counts a block's workers, for BlockLeft.
type blockTally struct {
	registered, connected, byes int
}

// BlockLeft says whether every worker of the block that registered has
// gone (left is false while one is connected or none ever came), and
// whether each of them said goodbye with nothing unanswered. A scheduler
// without accounting cannot say how a job that left its queue ended; a
// block whose workers all said goodbye ended as it should, one whose
// worker vanished did not.
func (e *Executor) BlockLeft(blockID string) (left, bye bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.blocks[blockID]
	if t == nil || t.registered == 0 || t.connected > 0 {
		return false, false
	}
	return true, t.byes == t.registered
}

// Outstanding is the number of jobs queued or on workers: what a scaling
// strategy weighs against the slots it has.
func (e *Executor) Outstanding() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := len(e.queue) - e.head
	for _, m := range e.managers {
		n += int(m.busy.Load())
	}
	return n
}

// DrainBlock tells the workers of a block to finish what they hold and
// leave; they get no new tasks. It returns how many workers it told.
func (e *Executor) DrainBlock(blockID string) int {
	e.mu.Lock()
	var ms []*manager
	for _, m := range e.managers {
		if m.hello.BlockID == blockID && !m.draining {
			m.draining = true
			e.dropIdle(m)
			ms = append(ms, m)
		}
	}
	next := e.rewake()
	e.mu.Unlock()
	for _, m := range ms {
		m.drainRequested.Store(true)
		m.signal()
	}
	if next != nil {
		next.signal()
	}
	return len(ms)
}

// rewake picks an idle worker to take queued jobs, for when the worker a
// Submit woke may be gone or draining and so will not take them; e.mu is
// held.
func (e *Executor) rewake() *manager {
	if e.head == len(e.queue) {
		return nil
	}
	return e.popIdle()
}

// dropIdle removes m from the idle list; e.mu is held.
func (e *Executor) dropIdle(m *manager) {
	if !m.idle {
		return
	}
	m.idle = false
	for i, x := range e.idle {
		if x == m {
			copy(e.idle[i:], e.idle[i+1:])
			e.idle[len(e.idle)-1] = nil
			e.idle = e.idle[:len(e.idle)-1]
			return
		}
	}
}

var errBye = errors.New("worker said bye")

// Fail puts the executor in a failed state, as Parsl's executors enter
// bad_state: queued jobs and every later Submit finish with err. The
// scaling strategy calls it when blocks keep failing to start, so a run
// stops with the reason instead of waiting forever.
func (e *Executor) Fail(err error) {
	failAll(e.drainQueue(err), err)
}
