// Package mpi is what starflow's MPI mode needs beyond the HTEX
// transport: a task's parsl_resource_specification (checked where the
// script calls the app), the nodes of the batch job a worker runs in, the
// queue that packs tasks onto free nodes, and the launcher prefixes
// (srun, mpiexec, aprun) a task finds in $PARSL_MPI_PREFIX. It is pure:
// it runs no command and reads no environment of its own.
package mpi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Spec is a task's resources, resolved: Nodes × RanksPerNode = Ranks.
type Spec struct {
	Nodes           int    // num_nodes
	RanksPerNode    int    // ranks_per_node
	Ranks           int    // num_ranks
	LauncherOptions string // launcher_options: appended to the prefixes
}

// Keys are the parsl_resource_specification keys an MPI executor takes,
// as Parsl's MPI mode does.
var Keys = []string{"num_nodes", "ranks_per_node", "num_ranks", "launcher_options"}

// Other is a value of a type Resolve does not take, by its script type
// and its repr, so the error shows the user what they wrote.
type Other struct{ Type, Repr string }

// Request is a parsl_resource_specification as the script wrote it:
// each key with an int64, a string or an Other.
type Request map[string]any

// ErrorPrefix starts every error about a resource specification, so the
// message names the parameter the user wrote.
const ErrorPrefix = "parsl_resource_specification: "

const example = `{"num_nodes": 2, "ranks_per_node": 2}`

// Resolve checks a request and fills in what it leaves out: ranks are
// spread evenly, so any two of num_nodes, ranks_per_node and num_ranks
// give the third; num_nodes alone runs one rank per node; ranks_per_node
// or num_ranks alone runs on one node. All three must agree.
func Resolve(r Request) (Spec, error) {
	bad := func(format string, a ...any) (Spec, error) {
		return Spec{}, fmt.Errorf(ErrorPrefix+format, a...)
	}
	var unknown []string
	for k := range r {
		if !slices.Contains(Keys, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return bad("unknown key %s; an MPI executor takes %s", strings.Join(unknown, ", "), strings.Join(Keys, ", "))
	}
	var counts [3]int // num_nodes, ranks_per_node, num_ranks; 0: not given
	for i, k := range Keys[:3] {
		v, ok := r[k]
		if !ok {
			continue
		}
		n, isInt := v.(int64)
		if !isInt || n < 1 || n > 1<<20 {
			return bad("for %s: got %s, want an int >= 1", k, describe(v))
		}
		counts[i] = int(n)
	}
	s := Spec{Nodes: counts[0], RanksPerNode: counts[1], Ranks: counts[2]}
	if v, ok := r["launcher_options"]; ok {
		opts, isStr := v.(string)
		if !isStr {
			return bad("for launcher_options: got %s, want a string of launcher arguments", describe(v))
		}
		s.LauncherOptions = strings.TrimSpace(opts)
	}
	if err := s.fill(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// fill derives the missing counts, or says why the given ones disagree.
func (s *Spec) fill() error {
	n, per, total := s.Nodes, s.RanksPerNode, s.Ranks
	multiple := func(of string, by int) error {
		return fmt.Errorf(ErrorPrefix+"num_ranks (%d) is not a multiple of %s (%d): every node runs the same number of ranks; give num_ranks = num_nodes × ranks_per_node",
			total, of, by)
	}
	switch {
	case n == 0 && per == 0 && total == 0:
		return fmt.Errorf(ErrorPrefix+"an MPI task needs num_nodes, ranks_per_node or num_ranks (e.g. %s); got none", example)
	case n > 0 && per > 0 && total > 0:
		if n*per != total {
			return fmt.Errorf(ErrorPrefix+"num_ranks is %d but num_nodes × ranks_per_node is %d × %d = %d; give num_ranks = num_nodes × ranks_per_node, or leave one of the three out",
				total, n, per, n*per)
		}
	case n > 0 && per > 0:
		total = n * per
	case n > 0 && total > 0:
		if total%n != 0 {
			return multiple("num_nodes", n)
		}
		per = total / n
	case per > 0 && total > 0:
		if total%per != 0 {
			return multiple("ranks_per_node", per)
		}
		n = total / per
	case n > 0:
		per, total = 1, n
	case per > 0:
		n, total = 1, per
	default:
		n, per = 1, total
	}
	s.Nodes, s.RanksPerNode, s.Ranks = n, per, total
	return nil
}

func describe(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return "string " + strconv.Quote(x)
	case Other:
		return x.Type + " " + x.Repr
	}
	return fmt.Sprintf("%T", v)
}

// CheckBlock refuses a task larger than a block: its ranks cannot span
// two batch jobs.
func (s Spec) CheckBlock(nodesPerBlock int) error {
	if s.Nodes > nodesPerBlock {
		return fmt.Errorf(ErrorPrefix+"num_nodes is %d but a block has %d node%s (the provider's nodes_per_block); an MPI task runs within one block, so ask for at most %d nodes or raise nodes_per_block",
			s.Nodes, nodesPerBlock, plural(nodesPerBlock), nodesPerBlock)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// The environment names a task's spec travels under, which are also
// what the task sees (Parsl's names, plus launcher options of its own).
const (
	EnvNumNodes        = "PARSL_NUM_NODES"
	EnvRanksPerNode    = "PARSL_RANKS_PER_NODE"
	EnvNumRanks        = "PARSL_NUM_RANKS"
	EnvLauncherOptions = "PARSL_MPI_LAUNCHER_OPTIONS"
)

// Env is the spec as KEY=VALUE entries. The spec travels to the worker
// in the task's environment: the worker reads it back (SpecFromEnv) to
// place the task, and the task sees the same values.
func (s Spec) Env() []string {
	env := []string{
		EnvNumNodes + "=" + strconv.Itoa(s.Nodes),
		EnvRanksPerNode + "=" + strconv.Itoa(s.RanksPerNode),
		EnvNumRanks + "=" + strconv.Itoa(s.Ranks),
	}
	if s.LauncherOptions != "" {
		env = append(env, EnvLauncherOptions+"="+s.LauncherOptions)
	}
	return env
}

// SpecFromEnv reads back what Env wrote; ok is false when env carries no
// spec (a task submitted without parsl_resource_specification).
func SpecFromEnv(env []string) (s Spec, ok bool, err error) {
	var counts [3]string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case EnvNumNodes:
			counts[0] = v
		case EnvRanksPerNode:
			counts[1] = v
		case EnvNumRanks:
			counts[2] = v
		case EnvLauncherOptions:
			s.LauncherOptions = v
		}
	}
	if counts == [3]string{} {
		return Spec{}, false, nil
	}
	names := [3]string{EnvNumNodes, EnvRanksPerNode, EnvNumRanks}
	for i, dst := range []*int{&s.Nodes, &s.RanksPerNode, &s.Ranks} {
		n, err := strconv.Atoi(counts[i])
		if err != nil || n < 1 {
			return Spec{}, true, fmt.Errorf("task environment: %s=%q is not a count", names[i], counts[i])
		}
		*dst = n
	}
	if s.Nodes*s.RanksPerNode != s.Ranks {
		return Spec{}, true, fmt.Errorf("task environment: %d nodes × %d ranks per node is not %d ranks", s.Nodes, s.RanksPerNode, s.Ranks)
	}
	return s, true, nil
}
