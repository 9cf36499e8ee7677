package builtins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/htex"
	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// htexRun is a running HighThroughputExecutor: the interchange, the
// provider's blocks and the scaling runner that starts and ends them. It
// owns the runner's goroutine; Shutdown leaves no block behind.
type htexRun struct {
	*htex.Executor
	h        *HighThroughputExecutor
	log      hclog.Logger
	runDir   string
	scaleCfg scaling.Config
	period   time.Duration
	// blockStatus records the blocks' states in the monitoring
	// database; nil without monitoring.
	blockStatus func(time.Time, scaling.BlockStatus)

	slurmJobs *slurm.Jobs // the host's registry of Slurm jobs (Options.SlurmJobs)

	runCtx context.Context // the kernel's: cancelled when the run is interrupted
	blocks *scaling.Blocks
	wake   chan struct{}
	halt   context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex // the maps below: the runner's goroutine and Snapshot
	joined    map[int]bool
	idleSince map[int]time.Time
	started   map[int]time.Time // when the block was first seen running
	drained   map[int]bool      // told to drain before its walltime
}

// startHTEX builds the executor for the configuration being loaded; the
// kernel starts it.
func startHTEX(s *Session, h *HighThroughputExecutor) (dfk.Executor, error) {
	cfg := s.building.cfg
	// Blocks run in their submit_scripts folder, so every path they are
	// given must be absolute.
	runDir, err := filepath.Abs(s.building.dir)
	if err != nil {
		return nil, err
	}
	var ex *htex.Executor
	address := h.address
	if address == "" && !h.provider.remote() {
		// LocalProvider's workers are on this machine: nobody else needs
		// to reach the interchange. Other providers' workers may be on
		// any node: it listens on every interface, and the workers are
		// told every address of this host (workerAddrs).
		address = "127.0.0.1"
	}
	hcfg := htex.Config{
		Label: h.label_, RunDir: runDir, Address: address, PortRange: h.listenPorts(),
		Unencrypted: !h.encrypted, PrefetchCapacity: h.prefetch(),
		HeartbeatPeriod: h.heartbeatPeriod, HeartbeatThreshold: h.heartbeatThreshold,
		Logger: s.log,
	}
	blockStatus := s.building.mon.watchHTEX(&hcfg)
	if ex, err = htex.New(hcfg); err != nil {
		return nil, err
	}
	r := &htexRun{Executor: ex, h: h, log: s.log.Named("htex").With("executor", h.label_), runDir: runDir,
		blockStatus: blockStatus, wake: make(chan struct{}, 1), joined: map[int]bool{}, idleSince: map[int]time.Time{},
		started: map[int]time.Time{}, drained: map[int]bool{}, slurmJobs: s.opts.SlurmJobs}
	if r.scaleCfg, r.period, err = strategyConfig(cfg, h); err != nil {
		return nil, err
	}
	if p := h.boundPeriod(r.period); p != r.period {
		r.log.Info("polling blocks less often than asked: the provider's scheduler is shared",
			"asked", r.period, "period", p, "provider", h.provider.Type())
		r.period = p
	}
	if wt := h.provider.blockSettings().Walltime; h.drainPeriod > 0 && wt > 0 && h.drainPeriod >= wt {
		return nil, fmt.Errorf("HighThroughputExecutor: drain_period (%v) must be shorter than the provider's walltime (%s): blocks would drain as they start",
			h.drainPeriod, providers.FormatWalltime(wt))
	}
	return r, nil
}

// listenPorts is interchange_port_range, or worker_port_range when only
// that is given: starflow's workers connect to the interchange's one port,
// which is therefore the port a site's firewall must let workers reach.
func (h *HighThroughputExecutor) listenPorts() [2]int {
	if h.interchangePorts == [2]int{} {
		return h.workerPortRange
	}
	return h.interchangePorts
}

// strategyConfig reads Config(strategy=, strategy_period=, max_idletime=);
// the executor's poll_period paces the strategy when strategy_period is
// not given.
func strategyConfig(cfg *Config, h *HighThroughputExecutor) (scaling.Config, time.Duration, error) {
	sc := scaling.Config{Kind: scaling.Simple, Blocks: h.provider.blockSettings(), MaxIdletime: 120 * time.Second}
	period := 5 * time.Second
	if h.pollPeriod > 0 {
		period = h.pollPeriod
	}
	if cfg == nil {
		return sc, period, nil
	}
	if v, ok := cfg.extra["strategy"]; ok {
		switch x := v.(type) {
		case starlark.NoneType:
			sc.Kind = scaling.None
		case starlark.String:
			k, err := scaling.ParseKind(string(x))
			if err != nil {
				return sc, 0, fmt.Errorf("Config: %w", err)
			}
			sc.Kind = k
		default:
			return sc, 0, fmt.Errorf("Config: for parameter strategy: got %s, want a string", v.Type())
		}
	}
	for name, dst := range map[string]*time.Duration{"strategy_period": &period, "max_idletime": &sc.MaxIdletime} {
		v, ok := cfg.extra[name]
		if !ok || v == starlark.None {
			continue
		}
		secs, ok := starlark.AsFloat(v)
		if !ok || secs <= 0 {
			return sc, 0, fmt.Errorf("Config: for parameter %s: got %s, want a positive number of seconds", name, v.String())
		}
		*dst = time.Duration(secs * float64(time.Second))
	}
	return sc, period, nil
}

// boundPeriod is the strategy period asked for, raised to the provider's
// least poll interval: Parsl's poll_period of 10 ms is fine for a local
// process table, not for squeue.
func (h *HighThroughputExecutor) boundPeriod(asked time.Duration) time.Duration {
	return max(asked, h.provider.minPoll())
}

// Start starts the interchange, then the blocks' provider and the scaling
// runner, which submits init_blocks at once.
func (r *htexRun) Start(ctx context.Context) error {
	if err := r.Executor.Start(ctx); err != nil {
		return err
	}
	r.runCtx = ctx
	cmd, err := r.workerCommand()
	if err != nil {
		return r.abort(err)
	}
	prov, err := r.h.provider.start(ctx, providerHost{log: r.log, slurmJobs: r.slurmJobs})
	if err != nil {
		return r.abort(err)
	}
	r.blocks = &scaling.Blocks{Provider: prov, Label: r.h.label_, Dir: filepath.Join(r.runDir, "submit_scripts"),
		Command: cmd, TasksPerNode: 1, MinPollInterval: r.h.provider.minPoll(), Resolve: r.resolveGone,
		OnStatus: r.blockStatus}
	runner := &scaling.Runner{Strategy: scaling.New(r.scaleCfg), Target: r, Period: r.period, Wake: r.wake, Logger: r.log}
	var rctx context.Context
	rctx, r.halt = context.WithCancel(context.Background())
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		_ = runner.Run(rctx)
	}()
	r.h.run.Store(r)
	return nil
}

// resolveGone judges a block whose job the scheduler forgot without saying
// how it ended (no accounting): it completed if its workers said goodbye,
// and was lost otherwise. Never is it taken for completed on no evidence.
func (r *htexRun) resolveGone(id int, st providers.Status) providers.Status {
	left, bye := r.BlockLeft(strconv.Itoa(id))
	switch {
	case bye:
		return providers.Status{State: providers.Completed, Message: st.Message + "; its workers had said goodbye"}
	case left:
		return providers.Status{State: providers.Lost, Message: st.Message + "; its workers vanished without saying goodbye"}
	}
	return providers.Status{State: providers.Lost, Message: st.Message + "; no worker of it had connected"}
}

func (r *htexRun) abort(err error) error {
	_ = r.Executor.Shutdown(context.Background())
	return fmt.Errorf("htex %q: %w", r.h.label_, err)
}

// workerCommand is the command line of block n: this very binary in its
// worker mode, told where the interchange is and how to prove itself.
func (r *htexRun) workerCommand() (func(int) string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find starflow's own binary for the workers: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	ep, h := r.Endpoint(), r.h
	logdir := filepath.Join(r.runDir, "submit_scripts")
	if h.workerLogdirRoot != "" {
		root, err := filepath.Abs(h.workerLogdirRoot)
		if err != nil {
			return nil, err
		}
		logdir = filepath.Join(root, ep.RunID)
	}
	if ep.SecretFile == "" {
		return nil, errors.New("the run folder holds no secret for the workers")
	}
	args := h.workerArgs(exe, cwd, logdir, ep)
	line := make([]string, len(args))
	for i, a := range args {
		line[i] = shQuote(a)
	}
	base := strings.Join(line, " ")
	return func(id int) string {
		cmd := base + " --block-id " + strconv.Itoa(id)
		if h.launchCmd == nil {
			return cmd
		}
		return h.launchCmd.expand(h.launchValues(cmd, id, logdir))
	}, nil
}

// workerArgs is the worker command line, before --block-id: exe in its
// worker mode, told where the interchange is, how to prove itself and
// how to size and pin its slots.
func (h *HighThroughputExecutor) workerArgs(exe, cwd, logdir string, ep htex.Endpoint) []string {
	args := []string{exe, "worker", "--addr", strings.Join(h.workerAddrs(ep.Port), ","), "--run-id", ep.RunID,
		"--chdir", cwd, "--max-workers-per-node", strconv.Itoa(h.maxWorkers),
		"--cores-per-worker", strconv.FormatFloat(h.coresPerWorker, 'g', -1, 64)}
	if h.memPerWorker > 0 {
		args = append(args, "--mem-per-worker", strconv.FormatFloat(h.memPerWorker, 'g', -1, 64))
	}
	if len(h.accelerators) > 0 {
		args = append(args, "--accelerators", strings.Join(h.accelerators, ","))
	}
	if h.workerDebug {
		args = append(args, "--debug")
	}
	if h.cpuAffinity != "none" {
		args = append(args, "--cpu-affinity", h.cpuAffinity)
	}
	if h.mpiMode {
		args = append(args, "--mpi-launcher", h.mpiLauncher)
	}
	if h.workerLogdirRoot != "" {
		args = append(args, "--logdir", logdir)
	}
	if ep.Unencrypted {
		return append(args, "--unencrypted", "--secret-file", ep.SecretFile)
	}
	return append(args, "--fingerprint", ep.Fingerprint, "--secret-file", ep.SecretFile)
}

// launchValues are launch_cmd's placeholders for block id, rendered as
// Parsl renders its own (inf and None where there is no bound).
func (h *HighThroughputExecutor) launchValues(workerCmd string, id int, logdir string) map[string]string {
	maxWorkers, mem, debug := "inf", "None", ""
	if h.maxWorkers > 0 {
		maxWorkers = strconv.Itoa(h.maxWorkers)
	}
	if h.memPerWorker > 0 {
		mem = strconv.FormatFloat(h.memPerWorker, 'g', -1, 64)
	}
	if h.workerDebug {
		debug = "--debug"
	}
	return map[string]string{
		"worker_cmd": workerCmd, "block_id": strconv.Itoa(id), "max_workers_per_node": maxWorkers,
		"cores_per_worker": strconv.FormatFloat(h.coresPerWorker, 'g', -1, 64), "mem_per_worker": mem,
		"prefetch_capacity": strconv.Itoa(h.prefetch()), "logdir": shQuote(logdir), "debug": debug,
	}
}

// launchTemplate is a parsed launch_cmd: literal text and placeholder
// names, alternating (even indexes literal).
type launchTemplate []string

var launchPlaceholders = []string{"block_id", "cores_per_worker", "debug", "logdir",
	"max_workers_per_node", "mem_per_worker", "prefetch_capacity", "worker_cmd"}

// parseLaunchCmd reads a launch_cmd with Python's str.format braces, so
// that a placeholder starflow cannot fill is an error at configuration
// time, not a block that fails on its node.
func parseLaunchCmd(s string) (launchTemplate, error) {
	if s == "" {
		return nil, nil
	}
	var t launchTemplate
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at offset %d of %q", i, s)
			}
			name := s[i+1 : i+end]
			if !slices.Contains(launchPlaceholders, name) {
				return nil, fmt.Errorf("unknown placeholder {%s}; starflow fills {%s}", name, strings.Join(launchPlaceholders, "}, {"))
			}
			t = append(t, lit.String(), name)
			lit.Reset()
			i += end
		case c == '}':
			return nil, fmt.Errorf("single } at offset %d of %q (write }} for a brace)", i, s)
		default:
			lit.WriteByte(c)
		}
	}
	return append(t, lit.String()), nil
}

func (t launchTemplate) expand(values map[string]string) string {
	var b strings.Builder
	for i, part := range t {
		if i%2 == 0 {
			b.WriteString(part)
		} else {
			b.WriteString(values[part])
		}
	}
	return b.String()
}

func shQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Submit queues the job and wakes the scaling runner, so that a task
// arriving with no block up starts one without waiting a period.
func (r *htexRun) Submit(job *dfk.Job) {
	r.Executor.Submit(job)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Shutdown stops scaling, then the interchange (which asks its workers to
// leave), then cancels every block left and closes the provider. After an
// interrupt the blocks of a remote provider are cancelled first: their
// tasks are being cancelled anyway, and a scheduler that must not keep
// starflow's jobs past its exit should not wait on workers to answer.
// For such a provider it then waits, a bounded time, until the scheduler
// lists the blocks as ended, so that squeue shows none once starflow
// has exited.
func (r *htexRun) Shutdown(ctx context.Context) error {
	if r.halt != nil {
		r.halt()
		<-r.done
	}
	var errs []error
	cancelled := false
	if r.blocks != nil && r.h.provider.remote() && r.runCtx != nil && r.runCtx.Err() != nil {
		errs = append(errs, r.blocks.Shutdown(ctx))
		cancelled = true
	}
	errs = append(errs, r.Executor.Shutdown(ctx))
	if r.blocks != nil && !cancelled {
		errs = append(errs, r.blocks.Shutdown(ctx))
	}
	if r.blocks != nil && r.h.provider.remote() {
		wait := 2 * max(r.h.provider.blockSettings().CmdTimeout, 5*time.Second)
		wctx, cancel := context.WithTimeout(ctx, wait)
		if err := r.blocks.WaitEnded(wctx, 200*time.Millisecond); err != nil {
			r.log.Warn("blocks not seen ending after shutdown", "error", err)
		}
		cancel()
	}
	return errors.Join(errs...)
}

// slotsPerBlock is how many tasks a block runs at once, given the slots
// of one of its workers: a worker per node, except in MPI mode, where a
// block has one manager whatever its nodes (a task takes whole nodes of
// it), so a block runs max_workers_per_block tasks.
func (h *HighThroughputExecutor) slotsPerBlock(workerSlots int) int {
	if h.mpiMode {
		return workerSlots
	}
	return workerSlots * max(h.provider.blockSettings().NodesPerBlock, 1)
}

// Snapshot implements scaling.Target. A block told to drain (drain_period
// before its walltime) is reported Completing: it serves no new task, so
// the strategy replaces it while work waits, and never picks it for
// scaling in.
func (r *htexRun) Snapshot(ctx context.Context) (scaling.State, error) {
	bs, err := r.blocks.Poll(ctx)
	if err != nil && len(bs) == 0 {
		return scaling.State{}, err
	}
	workers, tasks, firstSeen := map[string]int{}, map[string]int{}, map[string]time.Time{}
	slots := 0
	for _, m := range r.Managers() {
		workers[m.BlockID]++
		tasks[m.BlockID] += m.InFlight
		slots = max(slots, m.Slots)
		if t, ok := firstSeen[m.BlockID]; !ok || m.Registered.Before(t) {
			firstSeen[m.BlockID] = m.Registered
		}
	}
	if slots == 0 {
		// No worker yet: guess from this machine, as Parsl does from
		// max_workers_per_node; a worker's own count replaces the guess.
		slots = r.h.slotsPerNode()
	}
	now := time.Now()
	st := scaling.State{Outstanding: r.Outstanding(), SlotsPerBlock: r.h.slotsPerBlock(slots)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bs {
		id := strconv.Itoa(b.ID)
		if workers[id] > 0 || r.Joined(id) {
			r.joined[b.ID] = true
		}
		idle, ok := r.idleSince[b.ID]
		switch {
		case tasks[id] > 0:
			delete(r.idleSince, b.ID)
			idle = time.Time{}
		case !ok:
			idle = now
			r.idleSince[b.ID] = now
		}
		state := b.Status.State
		if r.drained[b.ID] && state.Active() {
			// A worker of the block that registered since it was told
			// to drain (a slow node of a multi-node block) drains too.
			r.DrainBlock(id)
			state = providers.Completing
		} else if state.Active() && r.drainDue(b.ID, state, firstSeen[id], now) {
			state = providers.Completing
		}
		st.Blocks = append(st.Blocks, scaling.Block{ID: b.ID, State: state, Message: b.Status.Message,
			Workers: workers[id], Joined: r.joined[b.ID], Tasks: tasks[id], IdleSince: idle})
		if b.Status.State.Terminal() {
			// Polls report an ending once: say it once, with why.
			r.log.Info("block ended", "block", b.ID, "job_id", b.JobID, "state", b.Status.State.String(),
				"joined", r.joined[b.ID], "message", b.Status.Message)
			delete(r.joined, b.ID)
			delete(r.idleSince, b.ID)
			delete(r.started, b.ID)
			delete(r.drained, b.ID)
		}
	}
	return st, nil
}

// drainDue tells block id's workers to drain once drain_period is left of
// its walltime, counted from when it was first seen running or its first
// worker registered, whichever came first; it reports whether it did so
// now. r.mu is held.
func (r *htexRun) drainDue(id int, state providers.JobState, registered, now time.Time) bool {
	wt := r.h.provider.blockSettings().Walltime
	if r.h.drainPeriod <= 0 || wt <= 0 || r.drained[id] {
		return false
	}
	start, ok := r.started[id]
	if state == providers.Running && !ok {
		start, ok = now, true
	}
	if !registered.IsZero() && (!ok || registered.Before(start)) {
		start, ok = registered, true
	}
	if !ok {
		return false
	}
	r.started[id] = start
	if now.Before(start.Add(wt - r.h.drainPeriod)) {
		return false
	}
	r.drained[id] = true
	n := r.DrainBlock(strconv.Itoa(id))
	r.log.Info("block draining before its walltime", "block", id, "workers", n,
		"walltime", providers.FormatWalltime(wt), "drain_period", r.h.drainPeriod)
	return true
}

// ScaleOut implements scaling.Target.
func (r *htexRun) ScaleOut(ctx context.Context, n int) (int, error) { return r.blocks.ScaleOut(ctx, n) }

// ScaleIn implements scaling.Target: the blocks' workers are told to
// leave, then the blocks are cancelled; tasks they still held are lost
// workers' tasks and are retried at no cost.
func (r *htexRun) ScaleIn(ctx context.Context, ids []int) error {
	for _, id := range ids {
		r.DrainBlock(strconv.Itoa(id))
	}
	return r.blocks.ScaleIn(ctx, ids)
}

// Fail implements scaling.Target: blocks keep failing to start, so the
// tasks waiting for them fail with the reason (the block's stderr).
func (r *htexRun) Fail(err error) { r.Executor.Fail(err) }
