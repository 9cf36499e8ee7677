package builtins

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/providers/local"
)

// HighThroughputExecutor is Parsl's HighThroughputExecutor: an interchange
// in this process and `starflow worker` processes started in blocks by its
// provider. build (htexrun.go's startHTEX) makes the running executor.
type HighThroughputExecutor struct {
	label_             string
	maxWorkers         int // max_workers_per_node; 0: one per core / cores_per_worker
	coresPerWorker     float64
	memPerWorker       float64 // GB; 0: no bound
	accelerators       []string
	cpuAffinity        string // validated by ParseCPUAffinity; the worker applies it
	prefetchCapacity   int
	address            string
	workerPortRange    [2]int
	interchangePorts   [2]int
	heartbeatPeriod    time.Duration
	heartbeatThreshold time.Duration
	pollPeriod         time.Duration // 0: not given (see strategyConfig)
	workerDebug        bool
	encrypted          bool
	provider           providerValue
	launchCmd          launchTemplate // nil: the worker command as is
	workerLogdirRoot   string
	// drainPeriod: a block stops taking tasks this long before its
	// walltime ends; 0 never.
	drainPeriod time.Duration
	mpiMode     bool   // enable_mpi_mode
	mpiLauncher string // mpi_launcher: srun, mpiexec or aprun

	// run is the executor running this configuration, for
	// connected_workers and connected_managers(); nil before it starts.
	run atomic.Pointer[htexRun]
}

var (
	_ executorValue     = (*HighThroughputExecutor)(nil)
	_ starlark.HasAttrs = (*HighThroughputExecutor)(nil)
)

func (h *HighThroughputExecutor) label() string { return h.label_ }
func (h *HighThroughputExecutor) String() string {
	return fmt.Sprintf("HighThroughputExecutor(label=%q, max_workers_per_node=%s, provider=%s)",
		h.label_, h.maxWorkersValue().String(), h.provider.String())
}
func (h *HighThroughputExecutor) Type() string         { return "HighThroughputExecutor" }
func (h *HighThroughputExecutor) Freeze()              {}
func (h *HighThroughputExecutor) Truth() starlark.Bool { return true }
func (h *HighThroughputExecutor) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable: HighThroughputExecutor")
}

func (h *HighThroughputExecutor) maxWorkersValue() starlark.Value {
	if h.maxWorkers == 0 {
		return starlark.Float(math.Inf(1))
	}
	return starlark.MakeInt(h.maxWorkers)
}

func (h *HighThroughputExecutor) AttrNames() []string {
	names := []string{"address", "connected_managers", "connected_workers", "cores_per_worker", "drain_period",
		"enable_mpi_mode", "encrypted", "heartbeat_period", "heartbeat_threshold", "label", "max_workers",
		"max_workers_per_node", "mpi_launcher", "prefetch_capacity", "provider", "worker_debug"}
	sort.Strings(names)
	return names
}

func (h *HighThroughputExecutor) Attr(name string) (starlark.Value, error) {
	switch name {
	case "label":
		return starlark.String(h.label_), nil
	case "max_workers", "max_workers_per_node":
		return h.maxWorkersValue(), nil
	case "cores_per_worker":
		return starlark.Float(h.coresPerWorker), nil
	case "prefetch_capacity":
		return starlark.MakeInt(h.prefetch()), nil
	case "address":
		if h.address == "" {
			return starlark.None, nil
		}
		return starlark.String(h.address), nil
	case "heartbeat_period":
		return starlark.MakeInt(int(h.heartbeatPeriod / time.Second)), nil
	case "heartbeat_threshold":
		return starlark.MakeInt(int(h.heartbeatThreshold / time.Second)), nil
	case "worker_debug":
		return starlark.Bool(h.workerDebug), nil
	case "encrypted":
		return starlark.Bool(h.encrypted), nil
	case "provider":
		return h.provider, nil
	case "enable_mpi_mode":
		return starlark.Bool(h.mpiMode), nil
	case "mpi_launcher":
		return starlark.String(h.mpiLauncher), nil
	case "drain_period":
		if h.drainPeriod == 0 {
			return starlark.None, nil
		}
		return starlark.Float(h.drainPeriod.Seconds()), nil
	case "connected_workers":
		return starlark.MakeInt(h.connectedWorkers()), nil
	case "connected_managers":
		return starlark.NewBuiltin(name, h.connectedManagers), nil
	}
	return nil, nil
}

func (h *HighThroughputExecutor) build(s *Session) (dfk.Executor, error) { return startHTEX(s, h) }

// slotsPerNode is what a worker will serve on a node like this one, as
// Parsl's worker pool computes it: max_workers_per_node bounded by the
// cores, the memory and the accelerators.
// prefetch is the number of tasks queued on each worker beyond its slots.
func (h *HighThroughputExecutor) prefetch() int {
	if h.prefetchCapacity < 0 {
		return h.slotsPerNode()
	}
	return h.prefetchCapacity
}

func (h *HighThroughputExecutor) slotsPerNode() int {
	n := h.maxWorkers
	byCores := int(float64(runtime.NumCPU()) / h.coresPerWorker)
	if n == 0 || byCores < n {
		n = byCores
	}
	if len(h.accelerators) > 0 && len(h.accelerators) < n {
		n = len(h.accelerators)
	}
	return max(n, 1)
}

// newHighThroughputExecutor is HighThroughputExecutor(label=..., ...) with
// Parsl's defaults. Where starflow's workers differ from Parsl's, Parsl's
// parameters mean this:
//
//   - launch_cmd is a template of the shell line each block runs, in place
//     of the worker command. Its placeholders are {worker_cmd} (starflow's
//     own `starflow worker ...` line, complete), {block_id},
//     {max_workers_per_node} ("inf" when unbounded), {cores_per_worker},
//     {mem_per_worker} ("None" when unbounded), {prefetch_capacity},
//     {logdir} and {debug} ("--debug" with worker_debug=True, else "");
//     {{ and }} are literal braces. Parsl's own template runs
//     process_worker_pool.py, which starflow has not, so any other
//     placeholder is an error here rather than a broken block later. The
//     usual use wraps the worker: "numactl --interleave=all {worker_cmd}".
//   - cpu_affinity pins each worker slot to CPUs as Parsl's pool does
//     ("none", "block", "block-reverse", "alternating", or
//     "list:0,1:2-3" with one group per slot): a python app's slot runs on
//     a thread with that affinity and a bash app's process inherits it.
//   - worker_logdir_root moves the workers' logs from their block's .stderr
//     file (in the run folder's submit_scripts) to
//     <root>/<run id>/block-<id>/worker.log.
//   - worker_port_range is where the interchange listens when
//     interchange_port_range is not given: Parsl's workers connect back on
//     ports in that range, starflow's workers connect to the interchange's
//     single port, so that port must be in the range a firewall lets
//     through.
//   - poll_period (milliseconds, as in Parsl) is how often the provider's
//     blocks are polled by the scaling strategy when Config's
//     strategy_period is not given. Parsl's interchange and workers poll
//     their sockets with it; starflow's are event-driven and have nothing
//     to poll, so block status is the only polling left for it to pace.
func newHighThroughputExecutor(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	h := &HighThroughputExecutor{label_: "HighThroughputExecutor", coresPerWorker: 1, cpuAffinity: "none",
		heartbeatPeriod: 30 * time.Second, heartbeatThreshold: 120 * time.Second, encrypted: true}
	var (
		maxWorkersPerNode, maxWorkers, coresPerWorker, memPerWorker starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
		accel, address, workerPorts, icPorts, provider              starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
		launchCmd, logdir, hbPeriod, hbThreshold, pollPeriod        starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
		addressProbe, storage, workingDir, managerSel, blockErr     starlark.Value
		mpiLauncher, drainPeriod, interchangeLaunch                 starlark.Value = starlark.None, starlark.None, nil
		prefetch                                                    starlark.Value // nil: not given
	)
	if err := unpackArgs(b.Name(), args, kwargs,
		"label?", &h.label_, "provider?", &provider, "launch_cmd?", &launchCmd,
		"interchange_launch_cmd?", &interchangeLaunch, "address?", &address,
		"loopback_address?", &addressProbe, "worker_ports?", &workerPorts,
		"worker_port_range?", &workerPorts, "interchange_port_range?", &icPorts,
		"storage_access?", &storage, "working_dir?", &workingDir, "worker_debug?", &h.workerDebug,
		"cores_per_worker?", &coresPerWorker, "mem_per_worker?", &memPerWorker,
		"max_workers?", &maxWorkers, "max_workers_per_node?", &maxWorkersPerNode,
		"cpu_affinity?", &h.cpuAffinity, "available_accelerators?", &accel,
		"manager_selector?", &managerSel, "prefetch_capacity?", &prefetch,
		"heartbeat_threshold?", &hbThreshold, "heartbeat_period?", &hbPeriod,
		"drain_period?", &drainPeriod, "poll_period?", &pollPeriod,
		"address_probe_timeout?", &addressProbe, "worker_logdir_root?", &logdir,
		"block_error_handler?", &blockErr, "encrypted?", &h.encrypted,
		"enable_mpi_mode?", &h.mpiMode, "mpi_launcher?", &mpiLauncher); err != nil {
		return nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: "+format, append([]any{b.Name()}, a...)...)
	}
	if h.label_ == "" {
		return nil, bad("label must not be empty")
	}
	var err error
	if maxWorkersPerNode == starlark.None {
		maxWorkersPerNode = maxWorkers // the older name
	}
	if h.maxWorkers, err = countOrInf(b.Name(), "max_workers_per_node", maxWorkersPerNode); err != nil {
		return nil, err
	}
	if h.coresPerWorker, err = positiveFloat(b.Name(), "cores_per_worker", coresPerWorker, 1); err != nil {
		return nil, err
	}
	if h.memPerWorker, err = positiveFloat(b.Name(), "mem_per_worker", memPerWorker, 0); err != nil {
		return nil, err
	}
	if h.accelerators, err = acceleratorList(b.Name(), accel); err != nil {
		return nil, err
	}
	// Not given, starflow keeps one task queued per worker slot, so a slot
	// never waits a round trip to the interchange between tasks (without
	// it, no-op tasks run at about half the rate). prefetch_capacity=0
	// gives Parsl's behaviour exactly.
	h.prefetchCapacity = -1
	if prefetch != nil && prefetch != starlark.None {
		v, ok := int64(-1), false
		if n, isInt := prefetch.(starlark.Int); isInt {
			v, ok = n.Int64()
		}
		if !ok || v < 0 {
			return nil, bad("for parameter prefetch_capacity: got %s, want an int of 0 or more", prefetch.String())
		}
		h.prefetchCapacity = int(v)
	}
	if address != starlark.None {
		s, ok := address.(starlark.String)
		if !ok {
			return nil, bad("for parameter address: got %s, want a host name or IP address", address.Type())
		}
		h.address = string(s)
	}
	if h.workerPortRange, err = portRange(b.Name(), "worker_port_range", workerPorts); err != nil {
		return nil, err
	}
	if h.interchangePorts, err = portRange(b.Name(), "interchange_port_range", icPorts); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		v    starlark.Value
		dst  *time.Duration
	}{{"heartbeat_period", hbPeriod, &h.heartbeatPeriod}, {"heartbeat_threshold", hbThreshold, &h.heartbeatThreshold},
		{"poll_period", pollPeriod, &h.pollPeriod}, {"drain_period", drainPeriod, &h.drainPeriod}} {
		if p.v == starlark.None {
			continue
		}
		secs, ok := starlark.AsFloat(p.v)
		if !ok || secs <= 0 {
			unit := "seconds"
			if p.name == "poll_period" {
				unit = "milliseconds"
			}
			return nil, bad("for parameter %s: got %s, want a positive number of %s", p.name, p.v.String(), unit)
		}
		if p.name == "poll_period" {
			secs /= 1000 // Parsl's poll_period is in milliseconds
		}
		*p.dst = time.Duration(secs * float64(time.Second))
	}
	if h.heartbeatThreshold <= h.heartbeatPeriod {
		return nil, bad("heartbeat_threshold (%v) must exceed heartbeat_period (%v)", h.heartbeatThreshold, h.heartbeatPeriod)
	}
	switch p := provider.(type) {
	case starlark.NoneType:
		h.provider = &LocalProvider{settings: local.Defaults().Settings}
	case providerValue:
		h.provider = p
	default:
		return nil, bad("for parameter provider: got %s, want a provider such as LocalProvider(...) or SlurmProvider(...)", provider.Type())
	}
	if h.mpiLauncher, err = mpiLauncherName(b.Name(), mpiLauncher); err != nil {
		return nil, err
	}
	if _, err := ParseCPUAffinity(h.cpuAffinity); err != nil {
		return nil, bad("for parameter cpu_affinity: %v", err)
	}
	cmdLine, err := optString(b.Name(), "launch_cmd", launchCmd)
	if err != nil {
		return nil, err
	}
	if h.launchCmd, err = parseLaunchCmd(cmdLine); err != nil {
		return nil, bad("for parameter launch_cmd: %v", err)
	}
	if h.workerLogdirRoot, err = optString(b.Name(), "worker_logdir_root", logdir); err != nil {
		return nil, err
	}
	return h, nil
}

// mpiLaunchers are mpi_launcher's accepted values, as in Parsl.
var mpiLaunchers = []string{"srun", "mpiexec", "aprun"}

// mpiLauncherName reads mpi_launcher; Parsl's default is "mpiexec".
func mpiLauncherName(fn string, v starlark.Value) (string, error) {
	if v == starlark.None {
		return "mpiexec", nil
	}
	if s, ok := v.(starlark.String); ok && slices.Contains(mpiLaunchers, string(s)) {
		return string(s), nil
	}
	return "", fmt.Errorf(`%s: for parameter mpi_launcher: got %s, want one of "srun", "mpiexec", "aprun"`, fn, v.String())
}

// connectedWorkers is Parsl's connected_workers: the worker slots
// registered with the running executor (0 before it starts).
func (h *HighThroughputExecutor) connectedWorkers() int {
	r := h.run.Load()
	if r == nil {
		return 0
	}
	n := 0
	for _, m := range r.Managers() {
		n += m.Slots
	}
	return n
}

// connectedManagers is Parsl's connected_managers(): one dict per
// registered worker process.
func (h *HighThroughputExecutor) connectedManagers(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	var out []starlark.Value
	if r := h.run.Load(); r != nil {
		ms := r.Managers()
		sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
		for _, m := range ms {
			d := starlark.NewDict(7)
			for _, kv := range []struct {
				k string
				v starlark.Value
			}{{"manager", starlark.String(strconv.FormatUint(m.ID, 10))}, {"block_id", starlark.String(m.BlockID)},
				{"hostname", starlark.String(m.Hostname)}, {"worker_count", starlark.MakeInt(m.Slots)},
				{"tasks", starlark.MakeInt(m.InFlight)}, {"active", starlark.Bool(!m.Draining)},
				{"draining", starlark.Bool(m.Draining)}} {
				_ = d.SetKey(starlark.String(kv.k), kv.v)
			}
			out = append(out, d)
		}
	}
	return starlark.NewList(out), nil
}

func countOrInf(fn, param string, v starlark.Value) (int, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return 0, nil
	case starlark.Float:
		if math.IsInf(float64(x), 1) {
			return 0, nil
		}
		if x >= 1 && x == starlark.Float(math.Trunc(float64(x))) {
			return int(x), nil
		}
	case starlark.Int:
		if n, ok := x.Int64(); ok && n >= 1 {
			return int(n), nil
		}
	}
	return 0, fmt.Errorf("%s: for parameter %s: got %s, want an integer >= 1 or float('inf')", fn, param, v.String())
}

func positiveFloat(fn, param string, v starlark.Value, def float64) (float64, error) {
	if v == starlark.None {
		return def, nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok || f <= 0 {
		return 0, fmt.Errorf("%s: for parameter %s: got %s, want a positive number", fn, param, v.String())
	}
	return f, nil
}

// acceleratorList reads available_accelerators: a count (devices 0..n-1)
// or a list of device names.
func acceleratorList(fn string, v starlark.Value) ([]string, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Int:
		n, ok := x.Int64()
		if !ok || n < 0 {
			return nil, fmt.Errorf("%s: for parameter available_accelerators: got %s, want a count or a list of device names", fn, v.String())
		}
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return out, nil
	}
	return stringList(fn, "available_accelerators", v)
}

func portRange(fn, param string, v starlark.Value) ([2]int, error) {
	if v == starlark.None {
		return [2]int{}, nil
	}
	seq, ok := v.(starlark.Indexable)
	if ok && seq.Len() == 2 {
		lo, e1 := starlark.AsInt32(seq.Index(0))
		hi, e2 := starlark.AsInt32(seq.Index(1))
		if e1 == nil && e2 == nil && lo >= 1 && lo <= hi && hi <= 65535 {
			return [2]int{lo, hi}, nil
		}
	}
	return [2]int{}, fmt.Errorf("%s: for parameter %s: got %s, want (low, high) ports", fn, param, v.String())
}

func optString(fn, param string, v starlark.Value) (string, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return "", nil
	case starlark.String:
		return string(x), nil
	}
	return "", fmt.Errorf("%s: for parameter %s: got %s, want a string", fn, param, v.Type())
}

// CPUAffinity is a parsed cpu_affinity: how a worker shares its node's
// CPUs among its slots, as Parsl's worker pool does.
type CPUAffinity struct {
	kind  string  // none, block, block-reverse, alternating or list
	lists [][]int // list: the CPUs of each slot in turn
}

const cpuAffinityForms = `"none", "block", "block-reverse", "alternating" or "list:<cpus>:<cpus>..." (cpus like 0,1 or 0-3)`

// ParseCPUAffinity reads a cpu_affinity value; the worker and the
// configuration share it, so that a value the worker would refuse fails
// when the script loads it.
func ParseCPUAffinity(s string) (CPUAffinity, error) {
	switch s {
	case "none", "block", "block-reverse", "alternating":
		return CPUAffinity{kind: s}, nil
	}
	groups, ok := strings.CutPrefix(s, "list:")
	if !ok || groups == "" {
		return CPUAffinity{}, fmt.Errorf("got %q, want %s", s, cpuAffinityForms)
	}
	a := CPUAffinity{kind: "list"}
	for _, g := range strings.Split(groups, ":") {
		cpus, err := cpuList(g)
		if err != nil {
			return CPUAffinity{}, fmt.Errorf("got %q: %v; want %s", s, err, cpuAffinityForms)
		}
		a.lists = append(a.lists, cpus)
	}
	return a, nil
}

// cpuList reads "0,2,4-7".
func cpuList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("%q is not a CPU number or range", part)
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}

// Pins says whether slots are pinned at all.
func (a CPUAffinity) Pins() bool { return a.kind != "" && a.kind != "none" }

// CPUs is the CPUs of slot rank among slots, chosen from avail (the
// worker's own affinity, sorted): nil when nothing is pinned. As in Parsl,
// the strategies give each slot len(avail)/slots CPUs, so more slots than
// CPUs is an error, and a list must name a group for every slot.
func (a CPUAffinity) CPUs(rank, slots int, avail []int) ([]int, error) {
	if !a.Pins() {
		return nil, nil
	}
	if a.kind == "list" {
		if len(a.lists) < slots {
			return nil, fmt.Errorf("cpu_affinity names %d CPU groups for %d worker slots", len(a.lists), slots)
		}
		return a.lists[rank], nil
	}
	per := len(avail) / slots
	if per == 0 {
		return nil, fmt.Errorf("cpu_affinity %q cannot give %d worker slots a CPU each: this worker may use %d", a.kind, slots, len(avail))
	}
	switch a.kind {
	case "block":
		return avail[per*rank : per*(rank+1)], nil
	case "block-reverse":
		r := slots - 1 - rank
		return avail[per*r : per*(r+1)], nil
	}
	var out []int // alternating
	for i := rank; i < len(avail); i += slots {
		out = append(out, avail[i])
	}
	return out, nil
}
