package web

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Geometry of the run page's SVG charts, in viewBox units: the browser
// scales them to the page width.
const (
	svgWidth   = 1000
	plotLeft   = 180 // room for lane labels
	plotRight  = 990
	plotWidth  = plotRight - plotLeft
	colWidth   = 2 // a timeline column: at 100,000 tries, one SVG shape per column per lane at most
	columns    = plotWidth / colWidth
	laneHeight = 18
	laneGap    = 4
	axisHeight = 24
	// maxLanes is the most timeline rows; beyond it, workers are merged
	// into their node, nodes into their block, blocks into their executor.
	maxLanes = 40
)

// timelineView is the Gantt chart of tries per worker.
type timelineView struct {
	Height int
	Lanes  []laneView
	Ticks  []tickView
	Exact  bool   // every try is drawn; else busy time per column
	Level  string // what a lane is: worker, node, block or executor
	Tries  int
	Hidden int // lanes left out beyond maxLanes
}

type laneView struct {
	Y, H         int
	LabelY       int
	Label, Title string
	Busy, Bad    string // step paths (downsampled)
	Bars         []barView
}

type barView struct {
	X, Y, W, H float64
	Class      string
	Href       string
	Title      string
}

type tickView struct {
	X     float64
	Label string
}

// lane levels, finest first: how many key fields a lane keeps.
var laneLevels = []struct {
	name string
	key  func(laneKey) laneKey
}{
	{"worker", func(k laneKey) laneKey { return k }},
	{"node", func(k laneKey) laneKey { return laneKey{k.executor, k.block, k.host, ""} }},
	{"block", func(k laneKey) laneKey { return laneKey{k.executor, k.block, "", ""} }},
	{"executor", func(k laneKey) laneKey { return laneKey{k.executor, "", "", ""} }},
}

// buildTimeline lays the tries out, one lane per worker, or per coarser
// unit when there are too many workers to show.
func buildTimeline(agg *tryAgg, span float64, taskHref func(int64) string) timelineView {
	v := timelineView{Exact: agg.exact, Tries: agg.tries, Ticks: timeTicks(span, plotLeft, plotWidth)}
	lanes := make([]*lane, 0, len(agg.lanes))
	for _, l := range agg.lanes {
		lanes = append(lanes, l)
	}
	for i, lv := range laneLevels {
		merged := mergeLanes(lanes, lv.key)
		v.Level = lv.name
		if len(merged) <= maxLanes || i == len(laneLevels)-1 {
			lanes = merged
			break
		}
	}
	slices.SortFunc(lanes, func(a, b *lane) int { return compareKeys(a.key, b.key) })
	if len(lanes) > maxLanes {
		v.Hidden = len(lanes) - maxLanes
		lanes = lanes[:maxLanes]
	}
	executors := map[string]bool{}
	for _, l := range lanes {
		executors[l.key.executor] = true
	}
	y := 4
	for _, l := range lanes {
		lv := laneView{Y: y, H: laneHeight, Label: laneLabel(l.key, len(executors) > 1), Title: laneTitle(l)}
		if agg.exact {
			rows := packBars(l.bars)
			if rows > 4 {
				lv.H = min(rows*5, 120)
			}
			bh := float64(lv.H) / float64(rows)
			for _, b := range l.bars {
				class := "ok"
				switch {
				case b.failed:
					class = "bad"
				case b.running:
					class = "run"
				}
				state := map[string]string{"ok": "", "bad": ", failed", "run": ", running"}[class]
				lv.Bars = append(lv.Bars, barView{
					X: plotLeft + b.x0*colWidth, W: math.Max((b.x1-b.x0)*colWidth, 1),
					Y: float64(y) + float64(b.row)*bh, H: math.Max(bh-0.5, 1),
					Class: class, Href: taskHref(b.task),
					Title: fmt.Sprintf("task %d, try %d%s", b.task, b.try, state),
				})
			}
		} else {
			capacity := math.Max(1, math.Ceil(slices.Max(l.busy)-1e-6))
			lv.Busy = stepPath(l.busy, capacity, y, lv.H)
			lv.Bad = stepPath(l.bad, capacity, y, lv.H)
			lv.Title += fmt.Sprintf("; height: busy slots out of %g", capacity)
		}
		lv.LabelY = y + lv.H/2 + 4
		v.Lanes = append(v.Lanes, lv)
		y += lv.H + laneGap
	}
	for i := range v.Ticks {
		v.Ticks[i].X = math.Round(v.Ticks[i].X*10) / 10
	}
	v.Height = y + axisHeight
	return v
}

func mergeLanes(lanes []*lane, key func(laneKey) laneKey) []*lane {
	byKey := map[laneKey]*lane{}
	var out []*lane
	for _, l := range lanes {
		k := key(l.key)
		m := byKey[k]
		if m == nil {
			m = &lane{key: k, busy: make([]float64, len(l.busy)), bad: make([]float64, len(l.bad))}
			byKey[k] = m
			out = append(out, m)
		}
		m.tries += l.tries
		for i := range l.busy {
			m.busy[i] += l.busy[i]
			m.bad[i] += l.bad[i]
		}
		m.bars = append(m.bars, l.bars...)
	}
	return out
}

// compareKeys orders lanes as a person counts: block 2 before block 10.
func compareKeys(a, b laneKey) int {
	return cmp.Or(naturalCompare(a.executor, b.executor), naturalCompare(a.block, b.block),
		naturalCompare(a.host, b.host), naturalCompare(a.worker, b.worker))
}

func naturalCompare(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

func laneLabel(k laneKey, showExecutor bool) string {
	var parts []string
	// In-process executors have no blocks: their name says where.
	if showExecutor || k.block == "" {
		parts = append(parts, k.executor)
	}
	if k.block != "" {
		parts = append(parts, "block "+k.block)
	}
	if k.host != "" {
		parts = append(parts, k.host)
	}
	if k.worker != "" {
		parts = append(parts, "w"+k.worker)
	}
	s := strings.Join(parts, " · ")
	if len(s) > 28 {
		s = s[:27] + "…"
	}
	return s
}

func laneTitle(l *lane) string {
	return fmt.Sprintf("executor %s, block %s, host %s, worker %s: %d tries",
		orDash(l.key.executor), orDash(l.key.block), orDash(l.key.host), orDash(l.key.worker), l.tries)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// packBars gives each bar a row within its lane so that no two overlap,
// and returns the number of rows (greedy interval partitioning: optimal).
func packBars(bars []bar) int {
	slices.SortFunc(bars, func(a, b bar) int { return cmp.Compare(a.x0, b.x0) })
	var ends []float64
	for i := range bars {
		r := slices.IndexFunc(ends, func(e float64) bool { return e <= bars[i].x0 })
		if r < 0 {
			r = len(ends)
			ends = append(ends, 0)
		}
		ends[r] = bars[i].x1
		bars[i].row = r
	}
	return max(len(ends), 1)
}

// stepPath draws cols as a filled step outline along the lane's bottom
// edge, heights relative to capacity. Heights are rounded to half a unit,
// so a steady lane is one long step rather than 400 tiny ones.
func stepPath(cols []float64, capacity float64, y, h int) string {
	var b strings.Builder
	base := float64(y + h)
	fmt.Fprintf(&b, "M%d %g", plotLeft, base)
	prev, any := 0.0, false
	for c, v := range cols {
		hv := math.Round(math.Min(v/capacity, 1)*float64(h)*2) / 2
		if hv != prev {
			fmt.Fprintf(&b, "H%dV%g", plotLeft+c*colWidth, base-hv)
			prev = hv
		}
		if hv > 0 {
			any = true
		}
	}
	if !any {
		return ""
	}
	fmt.Fprintf(&b, "H%dV%gZ", plotLeft+len(cols)*colWidth, base)
	return b.String()
}

// timeTicks places about eight labelled ticks on an axis of span seconds.
func timeTicks(span float64, left, width float64) []tickView {
	steps := []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
		60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	var ticks []tickView
	for i := 0; float64(i)*step <= span*(1+1e-9); i++ {
		v := float64(i) * step // not a running sum: 0.1+0.2 is not 0.3
		ticks = append(ticks, tickView{X: left + v/span*width, Label: formatOffset(v, step)})
	}
	return ticks
}

// formatOffset writes seconds since the run began, as precisely as the
// tick step needs.
func formatOffset(v, step float64) string {
	switch {
	case v == 0:
		return "0"
	case step < 1:
		return strconv.FormatFloat(v, 'f', int(math.Ceil(-math.Log10(step)-1e-9)), 64) + "s"
	case v < 60:
		return fmt.Sprintf("%gs", v)
	case v < 3600:
		m, s := int(v)/60, int(v)%60
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	default:
		h, m := int(v)/3600, int(v)%3600/60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	}
}
