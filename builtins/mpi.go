package builtins

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/executors/mpi"
	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/local"
)

// MPIExecutor is Parsl's MPIExecutor: a HighThroughputExecutor in MPI
// mode whose every block runs one manager (`starflow worker
// --mpi-launcher`) on its first node. The manager hands each task whole
// nodes of its block and the launcher prefix for them; the task starts
// its ranks with $PARSL_MPI_PREFIX. Everything but the script-facing
// surface is the embedded HighThroughputExecutor's.
type MPIExecutor struct {
	*HighThroughputExecutor
	maxWorkersPerBlock int
	launcher           mpi.Launcher
}

var (
	_ executorValue     = (*MPIExecutor)(nil)
	_ starlark.HasAttrs = (*MPIExecutor)(nil)
)

func (m *MPIExecutor) String() string {
	return fmt.Sprintf("MPIExecutor(label=%q, max_workers_per_block=%d, mpi_launcher=%q, provider=%s)",
		m.label_, m.maxWorkersPerBlock, m.launcher, m.provider.String())
}
func (m *MPIExecutor) Type() string { return "MPIExecutor" }
func (m *MPIExecutor) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable: MPIExecutor")
}

func (m *MPIExecutor) AttrNames() []string {
	names := []string{"max_workers_per_block"}
	for _, n := range m.HighThroughputExecutor.AttrNames() {
		if !slices.Contains(mpiHidden, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func (m *MPIExecutor) Attr(name string) (starlark.Value, error) {
	switch {
	case name == "max_workers_per_block":
		return starlark.MakeInt(m.maxWorkersPerBlock), nil
	case slices.Contains(mpiHidden, name):
		return nil, nil
	}
	return m.HighThroughputExecutor.Attr(name)
}

// mpiHidden are the HighThroughputExecutor attributes an MPIExecutor
// fixes itself, as Parsl's does; max_workers_per_block stands for them.
var mpiHidden = []string{"cores_per_worker", "max_workers", "max_workers_per_node"}

// mpiParams are MPIExecutor's parameters, in Parsl's order; all but
// max_workers_per_block and mpi_launcher pass to HighThroughputExecutor
// as they are. Parsl's MPIExecutor takes no other HTEX parameter, and
// neither does this one: cores_per_worker and the like mean nothing
// when a task holds whole nodes.
var mpiParams = []string{"label", "provider", "launch_cmd", "interchange_launch_cmd", "address",
	"worker_ports", "worker_port_range", "interchange_port_range", "storage_access", "working_dir",
	"worker_debug", "max_workers_per_block", "prefetch_capacity", "heartbeat_threshold",
	"heartbeat_period", "drain_period", "poll_period", "address_probe_timeout", "worker_logdir_root",
	"mpi_launcher", "block_error_handler", "encrypted"}

// newMPIExecutor is MPIExecutor(...): it checks what is MPI-specific and
// calls HighThroughputExecutor with enable_mpi_mode=True,
// max_workers_per_node=max_workers_per_block and a provider whose
// launcher is SimpleLauncher (one manager per block, whatever
// nodes_per_block says).
func newMPIExecutor(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	vals := make([]starlark.Value, len(mpiParams))
	pairs := make([]any, 0, 2*len(mpiParams))
	for i, name := range mpiParams {
		pairs = append(pairs, name+"?", &vals[i])
	}
	if err := unpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return nil, err
	}
	given := map[string]starlark.Value{}
	for i, name := range mpiParams {
		if vals[i] != nil {
			given[name] = vals[i]
		}
	}
	m := &MPIExecutor{maxWorkersPerBlock: 1, launcher: mpi.Mpiexec}
	if v, ok := given["max_workers_per_block"]; ok {
		n, err := starlark.AsInt32(v)
		if _, isInt := v.(starlark.Int); !isInt || err != nil || n < 1 {
			return nil, fmt.Errorf("%s: for parameter max_workers_per_block: got %s, want an int >= 1 (the MPI tasks a block runs at once)", b.Name(), v.String())
		}
		m.maxWorkersPerBlock = n
	}
	if v, ok := given["mpi_launcher"]; ok {
		s, _ := starlark.AsString(v)
		l, err := mpi.ParseLauncher(s)
		if _, isStr := v.(starlark.String); !isStr || err != nil {
			return nil, fmt.Errorf(`%s: for parameter mpi_launcher: got %s, want "srun", "mpiexec" or "aprun"`, b.Name(), v.String())
		}
		m.launcher = l
	}
	provider, err := mpiProvider(b.Name(), given["provider"])
	if err != nil {
		return nil, err
	}
	hkw := []starlark.Tuple{
		{starlark.String("label"), starlark.String("MPIExecutor")},
		{starlark.String("provider"), provider},
		{starlark.String("enable_mpi_mode"), starlark.True},
		{starlark.String("mpi_launcher"), starlark.String(m.launcher)},
		{starlark.String("max_workers_per_node"), starlark.MakeInt(m.maxWorkersPerBlock)},
		// The tasks' ranks run on the block's nodes, not on the manager's
		// CPUs: as in Parsl, a negligible share per slot lets
		// max_workers_per_block alone set the slot count.
		{starlark.String("cores_per_worker"), starlark.Float(1e-9)},
		// Parsl's prefetch default for MPIExecutor: a manager holds no
		// more tasks than it may run, so waiting tasks stay where any
		// block can take them.
		{starlark.String("prefetch_capacity"), starlark.MakeInt(0)},
	}
	for _, name := range mpiParams {
		v, ok := given[name]
		switch {
		case !ok, name == "provider", name == "max_workers_per_block", name == "mpi_launcher":
			continue
		case name == "label", name == "prefetch_capacity":
			hkw = slices.DeleteFunc(hkw, func(kv starlark.Tuple) bool { return string(kv[0].(starlark.String)) == name })
		}
		hkw = append(hkw, starlark.Tuple{starlark.String(name), v})
	}
	hb := starlark.NewBuiltin(b.Name(), newHighThroughputExecutor)
	hv, err := newHighThroughputExecutor(thread, hb, nil, hkw)
	if err != nil {
		return nil, err
	}
	m.HighThroughputExecutor = hv.(*HighThroughputExecutor)
	return m, nil
}

// mpiProvider is the provider's value for an MPIExecutor: given, it must
// start its blocks with SimpleLauncher; not given, a LocalProvider that
// does.
func mpiProvider(fn string, v starlark.Value) (starlark.Value, error) {
	if v == nil || v == starlark.None {
		cfg := local.Defaults()
		cfg.Settings.Launcher = launchers.NewSimple()
		return &LocalProvider{settings: cfg.Settings}, nil
	}
	p, ok := v.(providerValue)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter provider: got %s, want a provider such as SlurmProvider(..., launcher=SimpleLauncher())", fn, v.Type())
	}
	if _, simple := p.blockSettings().Launcher.(launchers.Simple); !simple {
		return nil, fmt.Errorf("%s: for parameter provider: its launcher is %s; an MPIExecutor needs launcher=SimpleLauncher(), so that each block runs one manager, which starts the tasks' ranks on the block's nodes",
			fn, launcherName(p.blockSettings().Launcher))
	}
	return v, nil
}

func launcherName(l providers.Launcher) string {
	switch l.(type) {
	case nil:
		return "the provider's default"
	case launchers.SingleNode:
		return "SingleNodeLauncher()"
	case launchers.Srun:
		return "SrunLauncher()"
	case launchers.MpiExec:
		return "MpiExecLauncher()"
	}
	return fmt.Sprintf("%T", l)
}

// sendsToWorkers says whether an executor's tasks travel to `starflow
// worker` processes, so that calls bound for it are encoded (and join
// apps, which cannot travel, get an internal pool).
func sendsToWorkers(ev executorValue) bool {
	switch ev.(type) {
	case *HighThroughputExecutor, *MPIExecutor:
		return true
	}
	return false
}

// mpiBlock says whether an executor runs MPI tasks and how many nodes
// each of its blocks has.
func mpiBlock(ev executorValue) (nodesPerBlock int, ok bool) {
	var h *HighThroughputExecutor
	switch x := ev.(type) {
	case *MPIExecutor:
		h = x.HighThroughputExecutor
	case *HighThroughputExecutor:
		h = x
	}
	if h == nil || !h.mpiMode {
		return 0, false
	}
	return max(h.provider.blockSettings().NodesPerBlock, 1), true
}

// mpiKeys are the keys that ask for MPI placement: on an executor that
// cannot give it, the task would silently run one rank.
var mpiKeys = []string{"num_nodes", "ranks_per_node", "num_ranks"}

// resourceSpec checks a call's parsl_resource_specification against the
// executor it goes to: an MPI executor needs one it can place within a
// block; another executor must not be asked for MPI placement, and
// ignores the rest (priority and the like), as Parsl's HTEX does.
func resourceSpec(raw starlark.Value, ev executorValue) (*mpi.Spec, error) {
	nodes, isMPI := mpiBlock(ev)
	req, err := resourceRequest(raw)
	if err != nil {
		return nil, err
	}
	if !isMPI {
		for _, k := range mpiKeys {
			if _, asked := req[k]; asked && ev != nil {
				return nil, fmt.Errorf(mpi.ErrorPrefix+"%s needs an MPI executor (MPIExecutor, or HighThroughputExecutor with enable_mpi_mode=True); executor %q is a %s",
					k, ev.label(), ev.Type())
			}
		}
		return nil, nil
	}
	spec, err := mpi.Resolve(req)
	if err != nil {
		return nil, err
	}
	if err := spec.CheckBlock(nodes); err != nil {
		return nil, fmt.Errorf("%w (executor %q)", err, ev.label())
	}
	return &spec, nil
}

// resourceRequest turns the script's dict into mpi's request.
func resourceRequest(raw starlark.Value) (mpi.Request, error) {
	if raw == nil || raw == starlark.None {
		return mpi.Request{}, nil
	}
	d, ok := raw.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf(mpi.ErrorPrefix+`got %s, want a dict such as {"num_nodes": 2, "ranks_per_node": 2}`, raw.Type())
	}
	req := make(mpi.Request, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf(mpi.ErrorPrefix+"got key %s (a %s), want the names %s", kv[0].String(), kv[0].Type(), strings.Join(mpi.Keys, ", "))
		}
		switch v := kv[1].(type) {
		case starlark.Int:
			n, ok := v.Int64()
			if !ok {
				req[string(k)] = mpi.Other{Type: "int", Repr: v.String()}
				continue
			}
			req[string(k)] = n
		case starlark.String:
			req[string(k)] = string(v)
		default:
			req[string(k)] = mpi.Other{Type: v.Type(), Repr: v.String()}
		}
	}
	return req, nil
}

// executor is the configuration's executor labelled label; nil for one
// starflow adds itself (the internal pool of join apps).
func (c *Config) executor(label string) executorValue {
	for _, ev := range c.executors {
		if ev.label() == label {
			return ev
		}
	}
	return nil
}
