package web

import (
	"fmt"
	"strings"
	"testing"
)

// TestTimelineLevels: a lane per worker while they fit, else per node,
// block or executor; merged lanes add their busy time up.
func TestTimelineLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		workers, nodes, blk int
		level               string
		lanes               int
	}{
		{"few workers", 8, 2, 1, "worker", 8},
		{"a node each", 60, 20, 2, "node", 20},
		{"many nodes", 200, 100, 5, "block", 5},
		{"many blocks", 400, 400, 100, "executor", 1},
	} {
		agg := &tryAgg{lanes: map[laneKey]*lane{}}
		for w := range tc.workers {
			k := laneKey{"htex", fmt.Sprint(w % tc.blk), fmt.Sprintf("n%d", w%tc.nodes), fmt.Sprint(w)}
			l := &lane{key: k, tries: 1, busy: make([]float64, columns), bad: make([]float64, columns)}
			addSpan(l.busy, 10, 20.5)
			agg.lanes[k] = l
			agg.tries++
		}
		v := buildTimeline(agg, 60, func(int64) string { return "" })
		if v.Level != tc.level || len(v.Lanes) != tc.lanes {
			t.Errorf("%s: %d lanes per %s, want %d per %s", tc.name, len(v.Lanes), v.Level, tc.lanes, tc.level)
		}
		for _, l := range v.Lanes {
			if !strings.HasPrefix(l.Busy, "M180 ") || !strings.Contains(l.Busy, "H200V") {
				t.Errorf("%s: lane %s path %q does not start busy at column 10", tc.name, l.Label, l.Busy)
			}
		}
	}
}

func TestAddSpan(t *testing.T) {
	t.Parallel()
	cols := make([]float64, 5)
	addSpan(cols, 0.5, 3.25) // half of 0, all of 1 and 2, a quarter of 3
	addSpan(cols, 4.5, 5)    // the end of the axis
	addSpan(cols, 2, 2)      // an instant still shows
	want := []float64{0.5, 1, 1.01, 0.25, 0.5}
	for i := range cols {
		if d := cols[i] - want[i]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("cols = %v, want %v", cols, want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		span float64
		want string
	}{
		{0.3, "0 0.05s 0.10s 0.15s 0.20s 0.25s 0.30s"},
		{5.5, "0 1s 2s 3s 4s 5s"},
		{626, "0 2m 4m 6m 8m 10m"},
		{4 * 3600, "0 30m 1h 1h30m 2h 2h30m 3h 3h30m 4h"},
	} {
		var got []string
		for _, tk := range timeTicks(tc.span, plotLeft, plotWidth) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("timeTicks(%v) = %v, want %s", tc.span, got, tc.want)
		}
	}
}
