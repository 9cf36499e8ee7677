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
	"github.com/starflow-hpc/starflow/providers/local"
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

	blocks *scaling.Blocks
	wake   chan struct{}
	halt   context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex // joined and idleSince: the runner's goroutine and Snapshot
	joined    map[int]bool
	idleSince map[int]time.Time
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
	if address == "" {
		// LocalProvider's workers are on this machine: nobody else needs
		// to reach the interchange.
		address = "127.0.0.1"
	}
	ex, err = htex.New(htex.Config{
		Label: h.label_, RunDir: runDir, Address: address, PortRange: h.listenPorts(),
		Unencrypted: !h.encrypted, PrefetchCapacity: h.prefetch(),
		HeartbeatPeriod: h.heartbeatPeriod, HeartbeatThreshold: h.heartbeatThreshold,
		Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	r := &htexRun{Executor: ex, h: h, log: s.log.Named("htex").With("executor", h.label_), runDir: runDir,
		wake: make(chan struct{}, 1), joined: map[int]bool{}, idleSince: map[int]time.Time{}}
	if r.scaleCfg, r.period, err = strategyConfig(cfg, h); err != nil {
		return nil, err
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
	sc := scaling.Config{Kind: scaling.Simple, Blocks: h.provider.settings, MaxIdletime: 120 * time.Second}
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

// Start starts the interchange, then the blocks' provider and the scaling
// runner, which submits init_blocks at once.
func (r *htexRun) Start(ctx context.Context) error {
	if err := r.Executor.Start(ctx); err != nil {
		return err
	}
	cmd, err := r.workerCommand()
	if err != nil {
		return r.abort(err)
	}
	prov, err := local.New(local.Config{Settings: r.h.provider.settings, MoveFiles: r.h.provider.moveFiles, Logger: r.log})
	if err != nil {
		return r.abort(err)
	}
	r.blocks = &scaling.Blocks{Provider: prov, Label: r.h.label_, Dir: filepath.Join(r.runDir, "submit_scripts"),
		Command: cmd, TasksPerNode: 1}
	runner := &scaling.Runner{Strategy: scaling.New(r.scaleCfg), Target: r, Period: r.period, Wake: r.wake, Logger: r.log}
	var rctx context.Context
	rctx, r.halt = context.WithCancel(context.Background())
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		_ = runner.Run(rctx)
	}()
	return nil
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
	addr := h.address
	if addr == "" {
		addr = "127.0.0.1"
	}
	args := []string{exe, "worker", "--addr", addr + ":" + strconv.Itoa(ep.Port), "--run-id", ep.RunID,
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
	logdir := filepath.Join(r.runDir, "submit_scripts")
	if h.workerLogdirRoot != "" {
		root, err := filepath.Abs(h.workerLogdirRoot)
		if err != nil {
			return nil, err
		}
		logdir = filepath.Join(root, ep.RunID)
		args = append(args, "--logdir", logdir)
	}
	if ep.Unencrypted {
		args = append(args, "--unencrypted", "--secret-file", ep.SecretFile)
	} else {
		args = append(args, "--fingerprint", ep.Fingerprint, "--secret-file", ep.SecretFile)
	}
	if ep.SecretFile == "" {
		return nil, errors.New("the run folder holds no secret for the workers")
	}
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
// leave), then cancels every block left and closes the provider.
func (r *htexRun) Shutdown(ctx context.Context) error {
	if r.halt != nil {
		r.halt()
		<-r.done
	}
	err := r.Executor.Shutdown(ctx)
	if r.blocks != nil {
		err = errors.Join(err, r.blocks.Shutdown(ctx))
	}
	return err
}

// Snapshot implements scaling.Target.
func (r *htexRun) Snapshot(ctx context.Context) (scaling.State, error) {
	bs, err := r.blocks.Poll(ctx)
	if err != nil && len(bs) == 0 {
		return scaling.State{}, err
	}
	workers, tasks := map[string]int{}, map[string]int{}
	for _, m := range r.Managers() {
		workers[m.BlockID]++
		tasks[m.BlockID] += m.InFlight
	}
	now := time.Now()
	st := scaling.State{Outstanding: r.Outstanding(),
		SlotsPerBlock: r.h.slotsPerNode() * max(r.h.provider.settings.NodesPerBlock, 1)}
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
		st.Blocks = append(st.Blocks, scaling.Block{ID: b.ID, State: b.Status.State, Message: b.Status.Message,
			Workers: workers[id], Joined: r.joined[b.ID], Tasks: tasks[id], IdleSince: idle})
		if b.Status.State.Terminal() {
			delete(r.joined, b.ID)
			delete(r.idleSince, b.ID)
		}
	}
	return st, nil
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
