package web

import (
	"fmt"
	"math"
	"strings"
)

// chartBuckets is the state chart's resolution: one point per 4 units.
const chartBuckets = plotWidth / 4

const (
	panelHeight = 110
	panelGap    = 30
)

// stateChartView is the tasks-by-state chart: one panel of tasks in
// flight (waiting, running), whose counts stay near the worker count, and
// one of tasks finished (done, failed), which grows to the run's size. On
// one scale the first would be a flat line under the second.
type stateChartView struct {
	Height int
	Panels []panelView
	Ticks  []tickView
	AxisY  int
}

type panelView struct {
	Title  string
	Y      int
	Max    int
	MaxY   int // where the Max label sits
	Areas  []areaView
	Bottom int
}

type areaView struct {
	Class, Label, Path string
	Last               int // the count at the run's end (or now)
}

// buildStateChart adds the two passes' changes up into counts per bucket.
func buildStateChart(tasks *taskAgg, tries *tryAgg, span float64) stateChartView {
	var counts [numCats][]int
	for c := range counts {
		counts[c] = make([]int, chartBuckets)
		n := 0
		for b := range chartBuckets {
			n += tasks.delta[c][b] + tries.delta[c][b]
			// A task whose try returned after the task (clock skew between
			// hosts) would dip below zero for a bucket.
			counts[c][b] = max(n, 0)
		}
	}
	v := stateChartView{}
	panels := []struct {
		title string
		cats  []int
	}{
		{"In flight", []int{catRunning, catWaiting}},
		{"Finished", []int{catDone, catFailed}},
	}
	y := 10
	for _, p := range panels {
		pv := panelView{Title: p.title, Y: y, Bottom: y + panelHeight}
		top := 1
		for b := range chartBuckets {
			sum := 0
			for _, c := range p.cats {
				sum += counts[c][b]
			}
			top = max(top, sum)
		}
		pv.Max = niceCeil(top)
		pv.MaxY = y + 10
		lower := make([]int, chartBuckets)
		for _, c := range p.cats {
			upper := make([]int, chartBuckets)
			for b := range chartBuckets {
				upper[b] = lower[b] + counts[c][b]
			}
			pv.Areas = append(pv.Areas, areaView{
				Class: catClass[c], Label: catLabel[c], Last: counts[c][chartBuckets-1],
				Path: areaPath(lower, upper, pv.Max, pv.Bottom),
			})
			lower = upper
		}
		v.Panels = append(v.Panels, pv)
		y += panelHeight + panelGap
	}
	v.AxisY = y - panelGap + 14
	v.Height = v.AxisY + 6
	v.Ticks = timeTicks(span, plotLeft, plotWidth)
	return v
}

var catClass = [numCats]string{"st-waiting", "st-running", "st-done", "st-failed"}
var catLabel = [numCats]string{"waiting", "running", "done", "failed"}

// areaPath outlines the band between two series: along upper, back along
// lower. Each bucket's value is drawn at the bucket's end.
func areaPath(lower, upper []int, top, bottom int) string {
	scale := float64(panelHeight) / float64(top)
	x := func(b int) float64 { return plotLeft + float64(b+1)*float64(plotWidth)/float64(len(upper)) }
	y := func(v int) float64 { return math.Round((float64(bottom)-float64(v)*scale)*10) / 10 }
	var s strings.Builder
	fmt.Fprintf(&s, "M%d %g", plotLeft, y(lower[0]))
	for b := range upper {
		fmt.Fprintf(&s, "L%g %g", x(b), y(upper[b]))
	}
	for b := len(lower) - 1; b >= 0; b-- {
		fmt.Fprintf(&s, "L%g %g", x(b), y(lower[b]))
	}
	return s.String() + "Z"
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, for an axis
// label that reads well.
func niceCeil(n int) int {
	p := 1
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}
