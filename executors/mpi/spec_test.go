package mpi

import (
	"slices"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   Request
		want Spec
	}{
		{"all three", Request{"num_nodes": int64(2), "ranks_per_node": int64(2), "num_ranks": int64(4)}, Spec{2, 2, 4, ""}},
		{"nodes and per node", Request{"num_nodes": int64(3), "ranks_per_node": int64(2)}, Spec{3, 2, 6, ""}},
		{"nodes and ranks", Request{"num_nodes": int64(2), "num_ranks": int64(8)}, Spec{2, 4, 8, ""}},
		{"per node and ranks", Request{"ranks_per_node": int64(4), "num_ranks": int64(8)}, Spec{2, 4, 8, ""}},
		{"nodes alone", Request{"num_nodes": int64(3)}, Spec{3, 1, 3, ""}},
		{"per node alone", Request{"ranks_per_node": int64(2)}, Spec{1, 2, 2, ""}},
		{"ranks alone", Request{"num_ranks": int64(5)}, Spec{1, 5, 5, ""}},
		{"launcher options", Request{"num_nodes": int64(1), "launcher_options": " --mpi=pmix "}, Spec{1, 1, 1, "--mpi=pmix"}},
	} {
		got, err := Resolve(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s: Resolve(%v) = %+v, %v; want %+v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

// The errors name the parameter, the value and what is accepted.
func TestResolveErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   Request
		want string
	}{
		{"mismatch", Request{"num_nodes": int64(2), "ranks_per_node": int64(2), "num_ranks": int64(5)},
			"num_ranks is 5 but num_nodes × ranks_per_node is 2 × 2 = 4; give num_ranks = num_nodes × ranks_per_node"},
		{"uneven over nodes", Request{"num_nodes": int64(2), "num_ranks": int64(5)}, "num_ranks (5) is not a multiple of num_nodes (2)"},
		{"uneven per node", Request{"ranks_per_node": int64(2), "num_ranks": int64(3)}, "num_ranks (3) is not a multiple of ranks_per_node (2)"},
		{"empty", Request{}, `needs num_nodes, ranks_per_node or num_ranks (e.g. {"num_nodes": 2, "ranks_per_node": 2}); got none`},
		{"options only", Request{"launcher_options": "-v"}, "got none"},
		{"unknown", Request{"num_nodes": int64(1), "cores": int64(4), "memory": int64(1)},
			`unknown key "cores", "memory"; an MPI executor takes num_nodes, ranks_per_node, num_ranks, launcher_options`},
		{"zero", Request{"num_nodes": int64(0)}, "for num_nodes: got 0, want an int >= 1"},
		{"string", Request{"num_ranks": "4"}, `for num_ranks: got string "4", want an int >= 1`},
		{"float", Request{"ranks_per_node": Other{"float", "2.0"}}, "for ranks_per_node: got float 2.0, want an int >= 1"},
		{"options not a string", Request{"num_nodes": int64(1), "launcher_options": int64(3)}, "for launcher_options: got 3, want a string"},
	} {
		_, err := Resolve(tc.in)
		if err == nil || !strings.HasPrefix(err.Error(), ErrorPrefix) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Resolve(%v) error = %v, want %q", tc.name, tc.in, err, tc.want)
		}
	}
}

func TestCheckBlock(t *testing.T) {
	t.Parallel()
	s := Spec{Nodes: 3, RanksPerNode: 1, Ranks: 3}
	if err := s.CheckBlock(3); err != nil {
		t.Errorf("3 nodes in a block of 3: %v", err)
	}
	err := s.CheckBlock(2)
	if err == nil || !strings.Contains(err.Error(), "num_nodes is 3 but a block has 2 nodes (the provider's nodes_per_block)") {
		t.Errorf("3 nodes in a block of 2: error = %v", err)
	}
}

func TestSpecEnvRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []Spec{{2, 2, 4, ""}, {1, 8, 8, "--mpi=pmix --exact"}} {
		env := append([]string{"OTHER=1"}, s.Env()...)
		got, ok, err := SpecFromEnv(env)
		if !ok || err != nil || got != s {
			t.Errorf("SpecFromEnv(%v) = %+v, %v, %v; want %+v", env, got, ok, err, s)
		}
	}
	if _, ok, err := SpecFromEnv([]string{"PATH=/bin"}); ok || err != nil {
		t.Errorf("no spec: ok=%v err=%v", ok, err)
	}
	for _, env := range [][]string{
		{"PARSL_NUM_NODES=2", "PARSL_RANKS_PER_NODE=2", "PARSL_NUM_RANKS=5"},
		{"PARSL_NUM_NODES=x", "PARSL_RANKS_PER_NODE=2", "PARSL_NUM_RANKS=4"},
		{"PARSL_NUM_NODES=2"},
	} {
		if _, ok, err := SpecFromEnv(env); !ok || err == nil {
			t.Errorf("SpecFromEnv(%v): ok=%v err=%v, want an error", env, ok, err)
		}
	}
	if !slices.Contains(Spec{1, 1, 1, "x"}.Env(), "PARSL_MPI_LAUNCHER_OPTIONS=x") {
		t.Error("launcher options do not travel")
	}
}
