// Package builtins is the script-visible API of starflow: the app
// decorators, futures, File, Config and executor constructors and the
// parsl module. It turns Starlark calls into dfk tasks and dfk outcomes
// back into Starlark values.
package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/codec"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
	"github.com/starflow-hpc/starflow/executors/threadpool"
	"github.com/starflow-hpc/starflow/memo"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// Options are the host's settings for one `starflow run`.
type Options struct {
	RunDirRoot string // --run-dir: where runinfo/NNN folders go
	Workers    int    // --workers: size of the default pool; 0 = cores
	Argv       []string
	Stdout     io.Writer // script print() and bash apps without stdout=
	Stderr     io.Writer
	Logger     hclog.Logger
	// Config, when set (--config), replaces whatever the script loads.
	Config *Config
	// OnRunStart is called with the folder of each new run, before its
	// first task, so the host can send its log there.
	OnRunStart func(dir string) error
	// Observer receives task events (progress, monitoring).
	Observer dfk.Observer
	// Tracker, if set, knows the process groups of running bash apps, so
	// the host can kill them when it must exit at once.
	Tracker *bash.Tracker
	// SlurmJobs, if set, knows the Slurm jobs the run's providers
	// submitted, so the host can cancel them when it must exit at once.
	SlurmJobs *slurm.Jobs
	// MemoDir is the project's memo store; "" disables durable results.
	MemoDir string
	// FreshMemo (--fresh) ignores results of earlier runs; this run's
	// results are still stored.
	FreshMemo bool
	// CodeDigest gives an app's code digest (interp.Program.CodeDigest);
	// nil disables memoization.
	CodeDigest func(fn *starlark.Function) ([32]byte, bool)
	// Bundle gives an app's code bundle (interp.Program.Bundle), for apps
	// that run on remote workers; nil means they cannot.
	Bundle func(fn *starlark.Function) (hash [32]byte, data []byte, err error)
}

// Session is the host state of one script run: the current kernel (Parsl's
// DFK), created by parsl.load or, lazily, by the first app call.
type Session struct {
	opts Options
	log  hclog.Logger
	ctx  context.Context // cancelled on interrupt

	printMu sync.Mutex

	mu      sync.Mutex
	current *kernelRun
	runs    []*kernelRun

	callbacks   callbacks    // add_done_callback functions
	codec       *codec.Codec // results and memo keys
	fileDigests fileDigests  // input files hashed once per run
	storeOnce   sync.Once    // the memo store opens on first use
	store       *memo.Badger
	storeErr    error

	bundles sync.Map // *starlark.Function -> *bundleEntry
	// building is the configuration whose executors are being built, its
	// run folder and its monitoring database, if any (startLocked, under
	// mu).
	building struct {
		cfg *Config
		dir string
		mon *runMonitor
	}
}

// kernelRun is one loaded configuration and its run folder.
type kernelRun struct {
	k     *dfk.Kernel
	cfg   *Config
	dir   string
	start time.Time
	memo  *memoizer // nil when the configuration turns caching off
	// remote holds the labels of executors whose tasks run on workers
	// (HTEX); defaultLabel is the executor an app with executors="all"
	// gets.
	remote       map[string]bool
	defaultLabel string
	monitor      *runMonitor // nil unless Config(monitoring=MonitoringHub(...))

	// parsl.clear, DataFlowKernel.cleanup and Finish may each close the
	// run; it is closed once and every caller sees how that went.
	closeOnce sync.Once
	closeErr  error
}

// NewSession prepares a session; nothing is created on disk until the
// first kernel starts.
func NewSession(ctx context.Context, opts Options) *Session {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.RunDirRoot == "" {
		opts.RunDirRoot = "runinfo"
	}
	if opts.Tracker == nil {
		// Resource monitoring learns of bash apps' process groups here.
		opts.Tracker = bash.NewTracker()
	}
	return &Session{opts: opts, log: opts.Logger, ctx: ctx, codec: ValueCodec()}
}

const sessionKey = "starflow.session"

// internalLabel is the executor join apps run on when the configuration's
// default executor runs tasks remotely (Parsl's "_parsl_internal").
const internalLabel = "_parsl_internal"

// Attach makes the session reachable from a Starlark thread.
func (s *Session) Attach(thread *starlark.Thread) { thread.SetLocal(sessionKey, s) }

func sessionOf(thread *starlark.Thread) (*Session, error) {
	s, ok := thread.Local(sessionKey).(*Session)
	if !ok {
		return nil, errors.New("starflow: no session on this thread")
	}
	return s, nil
}

// Print writes one line of script output; prints from concurrent apps do
// not interleave within a line.
func (s *Session) Print(_ *starlark.Thread, msg string) {
	s.printMu.Lock()
	defer s.printMu.Unlock()
	fmt.Fprintln(s.opts.Stdout, msg)
}

// Context is cancelled when the run is interrupted.
func (s *Session) Context() context.Context { return s.ctx }

// kernel returns the current kernel, starting the default one if the
// script never called parsl.load.
func (s *Session) kernel() (*kernelRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return s.current, nil
	}
	cfg := s.opts.Config
	if cfg == nil {
		cfg = defaultConfig(s.opts.Workers)
	}
	return s.startLocked(cfg)
}

func defaultConfig(workers int) *Config {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return &Config{
		executors: []executorValue{&ThreadPoolExecutor{label_: "threads", maxThreads: workers}},
		appCache:  true,
		retries:   0,
	}
}

// load is parsl.load: start a kernel for cfg.
func (s *Session) load(cfg *Config) (*kernelRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return nil, errors.New("a configuration is already loaded; call parsl.clear() first")
	}
	if s.opts.Config != nil && cfg != s.opts.Config {
		s.log.Info("--config replaces the configuration the script loads")
		cfg = s.opts.Config
	}
	return s.startLocked(cfg)
}

func (s *Session) startLocked(cfg *Config) (*kernelRun, error) {
	root := s.opts.RunDirRoot
	if cfg.runDir != "" && s.opts.RunDirRoot == "runinfo" {
		root = cfg.runDir
	}
	dir, err := NextRunDir(root)
	if err != nil {
		return nil, err
	}
	if s.opts.OnRunStart != nil {
		if err := s.opts.OnRunStart(dir); err != nil {
			return nil, err
		}
	}
	remote := map[string]bool{}
	for _, ev := range cfg.executors {
		if sendsToWorkers(ev) {
			remote[ev.label()] = true
		}
	}
	defaultLabel := cfg.executors[0].label()
	// Monitoring starts first: the executors report their workers,
	// blocks and samples to it.
	mon, err := s.startMonitoring(cfg, dir, defaultLabel, remote)
	if err != nil {
		return nil, err
	}
	kr, err := s.startKernel(cfg, dir, mon, remote, defaultLabel)
	if err != nil {
		_ = mon.close()
		return nil, err
	}
	s.current = kr
	s.runs = append(s.runs, kr)
	script := ""
	if len(s.opts.Argv) > 0 {
		script = s.opts.Argv[0]
	}
	s.log.Info("run started", "run_dir", dir, "script", script, "executors", kr.k.Labels(), "retries", cfg.retries)
	return kr, nil
}

// startKernel builds cfg's executors and starts a kernel on them.
func (s *Session) startKernel(cfg *Config, dir string, mon *runMonitor, remote map[string]bool, defaultLabel string) (*kernelRun, error) {
	exs := make([]dfk.Executor, 0, len(cfg.executors)+1)
	s.building.cfg, s.building.dir, s.building.mon = cfg, dir, mon
	defer func() { s.building.mon = nil }()
	for _, ev := range cfg.executors {
		ex, err := ev.build(s)
		if err != nil {
			return nil, err
		}
		exs = append(exs, ex)
	}
	if remote[defaultLabel] {
		// Join apps run in this process, as Parsl runs them on its
		// internal thread pool: their body submits tasks and returns
		// futures, which cannot travel.
		ex, err := threadpool.New(internalLabel, max(runtime.NumCPU(), 2))
		if err != nil {
			return nil, err
		}
		exs = append(exs, ex)
	}
	var m *memoizer
	var memoizer dfk.Memoizer
	if cfg.appCache && s.opts.CodeDigest != nil {
		m = newMemoizer(s, cfg, dir)
		memoizer = m
	}
	k, err := dfk.New(s.ctx, dfk.Config{
		Memo:         memoizer,
		Executors:    exs,
		Retries:      cfg.retries,
		LostRetries:  dfk.DefaultLostRetries,
		RetryHandler: cfg.retryHandler(s),
		Logger:       s.log.Named("dfk"),
		Observer:     observerOf(s.opts.Observer, mon),
	})
	if err != nil {
		return nil, err
	}
	return &kernelRun{k: k, cfg: cfg, dir: dir, start: time.Now(), memo: m, remote: remote, defaultLabel: defaultLabel, monitor: mon}, nil
}

// clear is parsl.clear: wait for the current kernel's tasks and shut it down.
func (s *Session) clear() error {
	s.mu.Lock()
	kr := s.current
	s.current = nil
	s.mu.Unlock()
	if kr == nil {
		return nil
	}
	return s.closeRun(kr)
}

// cleanup is DataFlowKernel.cleanup: like clear, for that kernel, which
// need not be the current one.
func (s *Session) cleanup(kr *kernelRun) error {
	s.mu.Lock()
	if s.current == kr {
		s.current = nil
	}
	s.mu.Unlock()
	return s.closeRun(kr)
}

func (s *Session) closeRun(kr *kernelRun) error {
	kr.closeOnce.Do(func() {
		werr := kr.k.WaitAll(s.ctx)
		serr := kr.k.Shutdown(context.Background())
		var merr error
		if kr.memo != nil {
			merr = kr.memo.close()
		}
		// After Shutdown: every event the run will send has been sent.
		kr.closeErr = errors.Join(werr, serr, merr, kr.monitor.close())
	})
	return kr.closeErr
}

// Finish waits for every task of every kernel the script started, shuts
// them down and returns them for the summary. Called once, at the end of
// the script (or after an interrupt, when waiting ends at once).
func (s *Session) Finish() ([]*dfk.Kernel, error) {
	s.mu.Lock()
	runs := append([]*kernelRun(nil), s.runs...)
	s.current = nil
	s.mu.Unlock()
	var errs []error
	ks := make([]*dfk.Kernel, 0, len(runs))
	for _, kr := range runs {
		if err := s.closeRun(kr); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
		ks = append(ks, kr.k)
	}
	s.callbacks.wait(s.ctx)
	if err := s.closeMemoStore(); err != nil {
		errs = append(errs, err)
	}
	return ks, errors.Join(errs...)
}

// Interrupt stops every kernel: nothing new runs, running tasks are
// cancelled.
func (s *Session) Interrupt(cause error) {
	s.mu.Lock()
	runs := append([]*kernelRun(nil), s.runs...)
	s.mu.Unlock()
	for _, kr := range runs {
		kr.k.Interrupt(cause)
	}
}

// Kernels returns every kernel started so far.
func (s *Session) Kernels() []*dfk.Kernel {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*dfk.Kernel, len(s.runs))
	for i, kr := range s.runs {
		out[i] = kr.k
	}
	return out
}

// RunDirs returns the run folders created so far.
func (s *Session) RunDirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.runs))
	for i, kr := range s.runs {
		out[i] = kr.dir
	}
	return out
}

// RunInfo is one run folder of the session and the kernel that ran in it.
type RunInfo struct {
	Dir    string
	Start  time.Time
	Kernel *dfk.Kernel
}

// Runs describes the session's run folders, in the order they started.
func (s *Session) Runs() []RunInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RunInfo, len(s.runs))
	for i, kr := range s.runs {
		out[i] = RunInfo{Dir: kr.dir, Start: kr.start, Kernel: kr.k}
	}
	return out
}

// NextRunDir creates root/NNN with the next free number (000, 001, ...),
// as Parsl numbers its runinfo folders.
func NextRunDir(root string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create run folder: %w", err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("create run folder: %w", err)
	}
	var used []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			used = append(used, n)
		}
	}
	sort.Ints(used)
	next := 0
	if len(used) > 0 {
		next = used[len(used)-1] + 1
	}
	for tries := 0; tries < 100; tries++ {
		dir := filepath.Join(root, fmt.Sprintf("%03d", next))
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("create run folder: %w", err)
		}
		next++ // another run took it meanwhile
	}
	return "", fmt.Errorf("create run folder in %s: no free number", root)
}

// ContextOf is the context of the session attached to thread (cancelled
// when the run is interrupted), or context.Background() if there is none.
func ContextOf(thread *starlark.Thread) context.Context {
	if s, err := sessionOf(thread); err == nil {
		return s.ctx
	}
	return context.Background()
}

// Stdout and Stderr are where the script's output goes.
func (s *Session) Stdout() io.Writer { return s.opts.Stdout }
func (s *Session) Stderr() io.Writer { return s.opts.Stderr }
