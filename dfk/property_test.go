package dfk_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

var (
	seedFlag   = flag.Int64("dfk.seed", 0, "seed of the first random DAG (0: from the clock)")
	graphsFlag = flag.Int("dfk.graphs", 300, "number of random DAGs")
)

// node is one task of a random DAG and what the test expects of it.
type node struct {
	deps  []int // indices of earlier nodes, or -1, -2 for dag.settled; may repeat
	fails int   // tries that fail before one succeeds
	join  bool  // a join app that joins one fresh python task

	runs atomic.Int32
	f    *dfk.Future

	wantState dfk.State
	wantRuns  int
}

// dag is a random graph: edges point from earlier nodes to later ones, so
// index order is a topological order.
type dag struct {
	nodes   []*node
	retries int
	slots   int
	settled []*dfk.Future // extra roots that are done before submission
}

func randomDAG(r *rand.Rand) *dag {
	g := &dag{retries: r.Intn(3), slots: 1 + r.Intn(4)}
	g.settled = []*dfk.Future{
		dfk.NewSettled(-1, "settled_ok", 0, nil),
		dfk.NewSettled(-2, "settled_bad", nil, errBoom),
	}
	n := 1 + r.Intn(200)
	failRate := r.Float64() * 0.3
	for i := range n {
		nd := &node{join: r.Intn(10) == 0}
		if r.Float64() < failRate {
			nd.fails = 1 + r.Intn(g.retries+2) // sometimes within retries, sometimes not
		}
		if i > 0 {
			for range r.Intn(min(i, 6) + 1) {
				// Prefer recent nodes so chains get long.
				nd.deps = append(nd.deps, i-1-r.Intn(min(i, 1+r.Intn(20))))
			}
		}
		if r.Intn(50) == 0 {
			nd.deps = append(nd.deps, -1-r.Intn(len(g.settled)))
		}
		g.nodes = append(g.nodes, nd)
	}
	g.expect()
	return g
}

// expect derives each node's final state and run count from the graph
// alone: this is the model the kernel must agree with.
func (g *dag) expect() {
	for _, nd := range g.nodes {
		switch {
		case slices.ContainsFunc(nd.deps, func(d int) bool { return !g.wantOK(d) }):
			nd.wantState, nd.wantRuns = dfk.DepFail, 0
		case nd.fails > g.retries:
			nd.wantState, nd.wantRuns = dfk.Failed, g.retries+1
		default:
			nd.wantState, nd.wantRuns = dfk.ExecDone, nd.fails+1
		}
	}
}

func (g *dag) future(d int) *dfk.Future {
	if d < 0 {
		return g.settled[-d-1]
	}
	return g.nodes[d].f
}

func (g *dag) wantOK(d int) bool {
	if d < 0 {
		_, err := g.settled[-d-1].Outcome()
		return err == nil
	}
	return g.nodes[d].wantState == dfk.ExecDone
}

func (g *dag) submit(t *testing.T, k *dfk.Kernel, r *rand.Rand) {
	for i, nd := range g.nodes {
		deps := make([]*dfk.Future, len(nd.deps))
		for j, d := range nd.deps {
			deps[j] = g.future(d)
		}
		kind := dfk.Python
		if nd.join {
			kind = dfk.JoinApp
		}
		nd.f = k.Submit(dfk.Spec{App: fmt.Sprintf("n%d", i), Kind: kind, Deps: deps, Run: nd.run(t, k, deps)})
		if r.Intn(8) == 0 {
			runtime.Gosched() // let some deps finish before their dependents arrive
		}
	}
}

func (nd *node) run(t *testing.T, k *dfk.Kernel, deps []*dfk.Future) runFunc {
	return func(_ context.Context, env dfk.Env) (any, error) {
		nd.runs.Add(1)
		for _, d := range deps {
			if d.State() != dfk.ExecDone {
				t.Errorf("task %d ran while its dependency %d was %v", env.ID, d.ID(), d.State())
			}
		}
		if env.Try < nd.fails {
			return nil, errBoom
		}
		if nd.join {
			return &dfk.Join{Futures: []*dfk.Future{k.Submit(dfk.Spec{App: "inner", Run: returns(env.ID)})}}, nil
		}
		return env.ID, nil
	}
}

func TestPropertyRandomDAGs(t *testing.T) {
	t.Parallel()
	base := *seedFlag
	if base == 0 {
		base = time.Now().UnixNano()
	}
	t.Logf("first seed %d (rerun one graph with -dfk.seed=SEED -dfk.graphs=1)", base)
	for i := range int64(*graphsFlag) {
		seed := base + i
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewSource(seed))
			g := randomDAG(r)
			t.Logf("seed %d: %d tasks, retries %d, %d slots", seed, len(g.nodes), g.retries, g.slots)
			k := newKernel(t, g.slots, dfk.Config{Retries: g.retries})
			g.submit(t, k, r)
			waitAll(t, k)
			g.check(t, k)
		})
	}
}

func (g *dag) check(t *testing.T, k *dfk.Kernel) {
	for i, nd := range g.nodes {
		if !nd.f.Done() {
			t.Fatalf("node %d: state %v after WaitAll", i, nd.f.State())
		}
		if got := nd.f.State(); got != nd.wantState {
			t.Errorf("node %d (deps %v, fails %d): state %v, want %v", i, nd.deps, nd.fails, got, nd.wantState)
		}
		if got := int(nd.runs.Load()); got != nd.wantRuns || got > 1+g.retries {
			t.Errorf("node %d: ran %d times, want %d (retries %d)", i, got, nd.wantRuns, g.retries)
		}
		if nd.wantState == dfk.DepFail {
			g.checkDependencyError(t, i)
		}
	}
	g.checkDescendants(t)
	c := k.Counts()
	if c.Done+c.Failed != c.Submitted || c.Waiting+c.Queued+c.Running != 0 {
		t.Errorf("Counts = %+v: every submitted task should be done or failed", c)
	}
}

// checkDependencyError checks that a DepFail names exactly the direct
// deps that did not succeed, once each, in argument order.
func (g *dag) checkDependencyError(t *testing.T, i int) {
	nd := g.nodes[i]
	var want []*dfk.Future
	for _, d := range nd.deps {
		if f := g.future(d); f.State() != dfk.ExecDone && !slices.Contains(want, f) {
			want = append(want, f)
		}
	}
	_, err := nd.f.Outcome()
	var de *dfk.DependencyError
	if !errors.As(err, &de) || !slices.Equal(de.Failed, want) {
		t.Errorf("node %d: error %v, want a DependencyError naming %v", i, err, ids(want))
	}
}

// checkDescendants checks, independently of the model in expect, that the
// DepFail tasks are exactly the descendants of the tasks that failed.
func (g *dag) checkDescendants(t *testing.T) {
	tainted := make([]bool, len(g.nodes))
	for i, nd := range g.nodes {
		for _, d := range nd.deps {
			if d < 0 && g.future(d).State() == dfk.Failed || d >= 0 && (tainted[d] || g.nodes[d].f.State() == dfk.Failed) {
				tainted[i] = true
			}
		}
	}
	for i, nd := range g.nodes {
		if (nd.f.State() == dfk.DepFail) != tainted[i] {
			t.Errorf("node %d: state %v, descendant of a failure: %v", i, nd.f.State(), tainted[i])
		}
	}
}
