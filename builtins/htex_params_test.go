package builtins

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/executors/htex"
)

// htexFrom calls HighThroughputExecutor(...) with the given keyword
// arguments, as a script would.
func htexFrom(t *testing.T, kwargs map[string]starlark.Value) (*HighThroughputExecutor, error) {
	t.Helper()
	var kw []starlark.Tuple
	for k, v := range kwargs {
		kw = append(kw, starlark.Tuple{starlark.String(k), v})
	}
	v, err := starlark.Call(&starlark.Thread{}, starlark.NewBuiltin("HighThroughputExecutor", newHighThroughputExecutor), nil, kw)
	if err != nil {
		return nil, err
	}
	return v.(*HighThroughputExecutor), nil
}

func TestLaunchCmdTemplate(t *testing.T) {
	t.Parallel()
	h, err := htexFrom(t, map[string]starlark.Value{
		"launch_cmd":       starlark.String("numactl --interleave=all {worker_cmd} # {block_id} {max_workers_per_node} {cores_per_worker} {mem_per_worker} {prefetch_capacity} {logdir} [{debug}] {{x}}"),
		"cores_per_worker": starlark.Float(0.5), "prefetch_capacity": starlark.MakeInt(3), "worker_debug": starlark.True,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := h.launchCmd.expand(h.launchValues("starflow worker --block-id 7", 7, "/runs/a b"))
	want := "numactl --interleave=all starflow worker --block-id 7 # 7 inf 0.5 None 3 '/runs/a b' [--debug] {x}"
	if got != want {
		t.Errorf("launch_cmd expanded to\n%s\nwant\n%s", got, want)
	}
	h, err = htexFrom(t, map[string]starlark.Value{"launch_cmd": starlark.String("{worker_cmd} {mem_per_worker} {max_workers_per_node}[{debug}]"),
		"mem_per_worker": starlark.Float(2), "max_workers_per_node": starlark.MakeInt(4)})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.launchCmd.expand(h.launchValues("w", 0, "/l")); got != "w 2 4[]" {
		t.Errorf("launch_cmd expanded to %q, want %q", got, "w 2 4[]")
	}
}

func TestLaunchCmdErrors(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[string]string{
		"process_worker_pool.py --task_port={task_port} {worker_cmd}": "unknown placeholder {task_port}; starflow fills {block_id}, {cores_per_worker}",
		"{worker_cmd":         "unclosed {",
		"{worker_cmd} }":      "single }",
		"run {} {worker_cmd}": "unknown placeholder {}",
	} {
		_, err := htexFrom(t, map[string]starlark.Value{"launch_cmd": starlark.String(cmd)})
		if err == nil || !strings.Contains(err.Error(), "HighThroughputExecutor: for parameter launch_cmd: "+want) {
			t.Errorf("launch_cmd=%q: got error %v, want one containing %q", cmd, err, want)
		}
	}
}

func TestCPUAffinitySlots(t *testing.T) {
	t.Parallel()
	avail := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for _, tc := range []struct {
		affinity string
		slots    int
		want     [][]int
	}{
		{"none", 2, [][]int{nil, nil}},
		{"block", 2, [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}}},
		{"block", 3, [][]int{{0, 1}, {2, 3}, {4, 5}}},
		{"block-reverse", 2, [][]int{{4, 5, 6, 7}, {0, 1, 2, 3}}},
		{"alternating", 3, [][]int{{0, 3, 6}, {1, 4, 7}, {2, 5}}},
		{"list:0,1:2-4:7", 2, [][]int{{0, 1}, {2, 3, 4}}},
	} {
		a, err := ParseCPUAffinity(tc.affinity)
		if err != nil {
			t.Fatalf("%s: %v", tc.affinity, err)
		}
		for rank, want := range tc.want {
			got, err := a.CPUs(rank, tc.slots, avail)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s, slot %d of %d: got %v, %v; want %v", tc.affinity, rank, tc.slots, got, err, want)
			}
		}
	}
}

func TestCPUAffinityErrors(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"blocks", "list:", "list:0,a", "list:3-1", "list:0::1", ""} {
		_, err := htexFrom(t, map[string]starlark.Value{"cpu_affinity": starlark.String(v)})
		if err == nil || !strings.Contains(err.Error(), `for parameter cpu_affinity: got "`+v+`"`) || !strings.Contains(err.Error(), `"block-reverse", "alternating" or "list:`) {
			t.Errorf("cpu_affinity=%q: got error %v, want one naming the accepted forms", v, err)
		}
	}
	// The worker cannot honour these on its node: more slots than CPUs,
	// fewer groups than slots.
	block, _ := ParseCPUAffinity("block")
	if _, err := block.CPUs(0, 3, []int{0, 1}); err == nil || !strings.Contains(err.Error(), "cannot give 3 worker slots a CPU each") {
		t.Errorf("block with 3 slots on 2 CPUs: got %v", err)
	}
	list, _ := ParseCPUAffinity("list:0:1")
	if _, err := list.CPUs(0, 3, []int{0, 1}); err == nil || !strings.Contains(err.Error(), "names 2 CPU groups for 3 worker slots") {
		t.Errorf("list of 2 for 3 slots: got %v", err)
	}
}

func TestWorkerPortRangeIsListenRange(t *testing.T) {
	t.Parallel()
	ports := func(lo, hi int) starlark.Value { return starlark.Tuple{starlark.MakeInt(lo), starlark.MakeInt(hi)} }
	h, err := htexFrom(t, map[string]starlark.Value{"worker_port_range": ports(50000, 50100)})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.listenPorts(); got != [2]int{50000, 50100} {
		t.Errorf("worker_port_range alone: interchange listens in %v, want [50000 50100]", got)
	}
	h, err = htexFrom(t, map[string]starlark.Value{"worker_port_range": ports(50000, 50100), "interchange_port_range": ports(51000, 51000)})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.listenPorts(); got != [2]int{51000, 51000} {
		t.Errorf("both ranges: interchange listens in %v, want interchange_port_range [51000 51000]", got)
	}
	for _, bad := range []starlark.Value{ports(100, 99), ports(0, 10), ports(1, 65536), starlark.MakeInt(5)} {
		if _, err := htexFrom(t, map[string]starlark.Value{"worker_port_range": bad}); err == nil ||
			!strings.Contains(err.Error(), "for parameter worker_port_range: got "+bad.String()+", want (low, high) ports") {
			t.Errorf("worker_port_range=%s: got error %v", bad, err)
		}
	}
}

func TestPollPeriodPacesStrategy(t *testing.T) {
	t.Parallel()
	period := func(pollMS starlark.Value, cfg *Config) time.Duration {
		t.Helper()
		kw := map[string]starlark.Value{}
		if pollMS != nil {
			kw["poll_period"] = pollMS
		}
		h, err := htexFrom(t, kw)
		if err != nil {
			t.Fatal(err)
		}
		_, p, err := strategyConfig(cfg, h)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	withPeriod := &Config{extra: map[string]starlark.Value{"strategy_period": starlark.Float(0.5)}}
	for _, tc := range []struct {
		name string
		poll starlark.Value
		cfg  *Config
		want time.Duration
	}{
		{"neither: Parsl's strategy period", nil, nil, 5 * time.Second},
		{"poll_period in ms", starlark.MakeInt(250), nil, 250 * time.Millisecond},
		{"strategy_period wins", starlark.MakeInt(250), withPeriod, 500 * time.Millisecond},
	} {
		if got := period(tc.poll, tc.cfg); got != tc.want {
			t.Errorf("%s: period %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, bad := range []starlark.Value{starlark.MakeInt(0), starlark.Float(-1), starlark.String("10")} {
		if _, err := htexFrom(t, map[string]starlark.Value{"poll_period": bad}); err == nil ||
			!strings.Contains(err.Error(), "for parameter poll_period: got "+bad.String()+", want a positive number of milliseconds") {
			t.Errorf("poll_period=%s: got error %v", bad, err)
		}
	}
}

// slurmFrom calls SlurmProvider(...) with the given keyword arguments.
func slurmFrom(t *testing.T, kwargs map[string]starlark.Value) *SlurmProvider {
	t.Helper()
	var kw []starlark.Tuple
	for k, v := range kwargs {
		kw = append(kw, starlark.Tuple{starlark.String(k), v})
	}
	v, err := starlark.Call(&starlark.Thread{}, starlark.NewBuiltin("SlurmProvider", newSlurmProvider), nil, kw)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*SlurmProvider)
}

// TestSlurmPollPeriodBounded: Parsl's poll_period=10 (ms) copied into a
// Slurm configuration does not become a hundred squeue calls a second;
// a local provider keeps what was asked.
func TestSlurmPollPeriodBounded(t *testing.T) {
	t.Parallel()
	onSlurm, err := htexFrom(t, map[string]starlark.Value{"poll_period": starlark.MakeInt(10), "provider": slurmFrom(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	_, asked, err := strategyConfig(nil, onSlurm)
	if err != nil {
		t.Fatal(err)
	}
	if got := onSlurm.boundPeriod(asked); got != slurmMinPoll {
		t.Errorf("Slurm with poll_period=10: period %v, want %v", got, slurmMinPoll)
	}
	if got := onSlurm.boundPeriod(7 * time.Second); got != 7*time.Second {
		t.Errorf("Slurm with 7 s: period %v, want 7s", got)
	}
	local, err := htexFrom(t, map[string]starlark.Value{"poll_period": starlark.MakeInt(10)})
	if err != nil {
		t.Fatal(err)
	}
	if got := local.boundPeriod(10 * time.Millisecond); got != 10*time.Millisecond {
		t.Errorf("LocalProvider with poll_period=10: period %v, want 10ms", got)
	}
}

// TestWorkerArgs: the worker's command line carries MPI mode only when it
// is on, and the addresses a worker can reach: loopback for local blocks,
// this host's addresses then loopback for Slurm's, address= as given.
func TestWorkerArgs(t *testing.T) {
	t.Parallel()
	ep := htex.Endpoint{Port: 4242, RunID: "r1", Fingerprint: "ab", SecretFile: "/run/secret"}
	argsOf := func(kw map[string]starlark.Value) []string {
		t.Helper()
		h, err := htexFrom(t, kw)
		if err != nil {
			t.Fatal(err)
		}
		return h.workerArgs("/bin/starflow", "/work", "/logs", ep)
	}
	flag := func(args []string, name string) (string, bool) {
		i := slices.Index(args, name)
		if i < 0 || i+1 >= len(args) {
			return "", false
		}
		return args[i+1], true
	}

	plain := argsOf(nil)
	if addr, _ := flag(plain, "--addr"); addr != "127.0.0.1:4242" {
		t.Errorf("local blocks: --addr %q, want 127.0.0.1:4242", addr)
	}
	if _, ok := flag(plain, "--mpi-launcher"); ok {
		t.Errorf("MPI mode off, yet the worker gets --mpi-launcher: %q", plain)
	}

	mpi := argsOf(map[string]starlark.Value{"enable_mpi_mode": starlark.True, "mpi_launcher": starlark.String("srun")})
	if l, _ := flag(mpi, "--mpi-launcher"); l != "srun" {
		t.Errorf("enable_mpi_mode=True, mpi_launcher=srun: --mpi-launcher %q in %q", l, mpi)
	}
	if l, _ := flag(argsOf(map[string]starlark.Value{"enable_mpi_mode": starlark.True}), "--mpi-launcher"); l != "mpiexec" {
		t.Errorf("enable_mpi_mode=True alone: --mpi-launcher %q, want Parsl's default mpiexec", l)
	}

	addr, _ := flag(argsOf(map[string]starlark.Value{"provider": slurmFrom(t, nil)}), "--addr")
	addrs := strings.Split(addr, ",")
	if len(addrs) == 0 || addrs[len(addrs)-1] != "127.0.0.1:4242" || len(addrs) > maxWorkerAddrs {
		t.Errorf("Slurm blocks: --addr %q, want this host's addresses (at most %d) ending with loopback", addr, maxWorkerAddrs)
	}
	given, _ := flag(argsOf(map[string]starlark.Value{"provider": slurmFrom(t, nil), "address": starlark.String("login1")}), "--addr")
	if given != "login1:4242" {
		t.Errorf("address=login1: --addr %q, want login1:4242", given)
	}
}

// TestSlotsPerBlock: the strategy counts a block's slots as a worker per
// node, each with its slots; in MPI mode a block has one manager, so its
// slots are max_workers_per_block whatever nodes_per_block says.
func TestSlotsPerBlock(t *testing.T) {
	t.Parallel()
	const threeNodes = "provider=SlurmProvider(nodes_per_block=3, launcher=SimpleLauncher())"
	tests := []struct {
		expr string
		want int
	}{
		{"HighThroughputExecutor(max_workers_per_node=2, " + threeNodes + ")", 6},
		{"HighThroughputExecutor(max_workers_per_node=2, enable_mpi_mode=True, " + threeNodes + ")", 2},
		{"MPIExecutor(max_workers_per_block=2, " + threeNodes + ")", 2},
	}
	for _, tt := range tests {
		v, err := evalMPI(t, tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := v.(*HighThroughputExecutor)
		if m, isMPI := v.(*MPIExecutor); isMPI {
			h, ok = m.HighThroughputExecutor, true
		}
		if !ok {
			t.Fatalf("%s: got a %s", tt.expr, v.Type())
		}
		if got := h.slotsPerBlock(2); got != tt.want {
			t.Errorf("%s: a block of workers with 2 slots runs %d tasks at once, want %d", tt.expr, got, tt.want)
		}
	}
}
