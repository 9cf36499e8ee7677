package web

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The run page's charts and app table summarize every task and try. SQLite
// groups by sorting, and on 100,000 rows a sort costs several times a plain
// scan (130-560 ms against ~40 ms with the pure-Go driver), so each table
// is read once, in storage order, and the server folds each row into
// fixed-size aggregates (per-app run times, per-bucket state changes,
// per-lane busy time) as it arrives. Nothing row-sized reaches the page.

// axis maps the run's seconds onto n equal buckets.
type axis struct {
	t0, span float64
	n        int
}

func newAxis(t0, t1 float64, n int) axis {
	span := t1 - t0
	if span < 0.001 {
		span = 0.001
	}
	return axis{t0, span, n}
}

// pos is t's place on the axis in buckets (fractional, clamped).
func (a axis) pos(t float64) float64 {
	x := (t - a.t0) / a.span * float64(a.n)
	return math.Min(math.Max(x, 0), float64(a.n))
}

// bucket is the bucket that holds t.
func (a axis) bucket(t float64) int { return min(int(a.pos(t)), a.n-1) }

// Task state categories of the state chart.
const (
	catWaiting = iota // submitted, not running: waiting on dependencies, a worker, or a retry
	catRunning
	catDone
	catFailed
	numCats
)

// finalCat is the chart category of a final state, or -1.
func finalCat(state string) int {
	switch state {
	case "exec_done", "memo_done":
		return catDone
	case "failed", "dep_fail":
		return catFailed
	}
	return -1
}

// taskAgg is what one pass over the task table yields.
type taskAgg struct {
	apps  map[string]*appSummary
	order []string
	durs  map[string][]float64
	// delta[c][b] is the change in the number of tasks in category c
	// during bucket b; the try pass adds its own changes.
	delta [numCats][]int
}

func scanTasks(ctx context.Context, db *sql.DB, run *runSummary, ax axis) (*taskAgg, error) {
	agg := &taskAgg{apps: map[string]*appSummary{}, durs: map[string][]float64{}}
	for c := range agg.delta {
		agg.delta[c] = make([]int, ax.n)
	}
	lo, hi := run.taskKeys()
	rows, err := db.QueryContext(ctx, `SELECT task_func_name, task_status_name, task_time_invoked, task_time_running, task_time_returned
		FROM task WHERE task_key BETWEEN ? AND ?`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	defer rows.Close()
	// RawBytes: no copy per row; the bytes are used before the next.
	var app, state, invokedText, runningText, returnedText sql.RawBytes
	var last *appSummary
	for rows.Next() {
		if err := rows.Scan(&app, &state, &invokedText, &runningText, &returnedText); err != nil {
			return nil, fmt.Errorf("read tasks: %w", err)
		}
		invoked, invokedOK := parseStamp(invokedText)
		running, runningOK := parseStamp(runningText)
		returned, returnedOK := parseStamp(returnedText)
		// Tasks of one app tend to come in runs: skip the map lookup then.
		a := last
		if a == nil || a.App != string(app) {
			a = agg.apps[string(app)]
			if a == nil {
				a = &appSummary{App: string(app), Counts: stateCounts{}}
				agg.apps[a.App] = a
				agg.order = append(agg.order, a.App)
			}
			last = a
		}
		a.Tasks++
		a.Counts[string(state)]++
		if runningOK && returnedOK {
			agg.durs[a.App] = append(agg.durs[a.App], max(returned-running, 0))
		}
		if invokedOK {
			agg.delta[catWaiting][ax.bucket(invoked)]++
		}
		if c := finalCat(string(state)); c >= 0 && returnedOK {
			b := ax.bucket(returned)
			agg.delta[catWaiting][b]--
			agg.delta[c][b]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	return agg, nil
}

// apps turns the pass into the app table, apps by name.
func (agg *taskAgg) appTable() []appSummary {
	out := make([]appSummary, 0, len(agg.order))
	for _, name := range agg.order {
		a := *agg.apps[name]
		a.Done, a.Failed = a.Counts.Done(), a.Counts.Failed()
		if d := agg.durs[name]; len(d) > 0 {
			slices.Sort(d)
			n := len(d)
			a.Timed, a.HasTimes = n, true
			a.Median = (d[(n-1)/2] + d[n/2]) / 2
			a.P95 = d[(95*n+99)/100-1] // nearest rank
			a.Max = d[n-1]
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y appSummary) int {
		if x.App < y.App {
			return -1
		}
		if x.App > y.App {
			return 1
		}
		return 0
	})
	return out
}

// laneKey is where a try ran, as finely as the timeline can show it.
type laneKey struct{ executor, block, host, worker string }

// lane is one row of the timeline.
type lane struct {
	key   laneKey
	tries int
	// busy[c] and bad[c] are the tries running (failing) in column c,
	// averaged over the column: 2.5 means two and a half slots busy.
	busy, bad []float64
	bars      []bar // every try, while the run is small enough to draw them
}

// bar is one try on the timeline, in columns.
type bar struct {
	task, try int64
	x0, x1    float64
	failed    bool
	running   bool
	row       int
}

// tryAgg is what one pass over the try table yields.
type tryAgg struct {
	lanes map[laneKey]*lane
	tries int
	exact bool
	// delta is the try's share of the state chart's changes.
	delta [numCats][]int
}

// exactTries is the most tries the timeline draws one by one; above it
// each lane is drawn as its busy time per column.
const exactTries = 2000

func scanTries(ctx context.Context, db *sql.DB, run *runSummary, ax, chart axis, exact bool) (*tryAgg, error) {
	agg := &tryAgg{lanes: map[laneKey]*lane{}, exact: exact}
	for c := range agg.delta {
		agg.delta[c] = make([]int, chart.n)
	}
	// The driver's cost is mostly per column, so the lane's four fields
	// come joined in one (NUL-separated), and the ids only when the bars
	// are drawn one by one.
	ids := "NULL, NULL"
	if exact {
		ids = "task_id, try_id"
	}
	lo, hi := run.tryKeys()
	rows, err := db.QueryContext(ctx, `SELECT `+ids+`,
		task_executor || char(0) || COALESCE(block_id, '') || char(0) || COALESCE(hostname, '') || char(0) || COALESCE(worker_id, ''),
		COALESCE(task_try_status_name = 'failed' OR task_fail_history <> '', 0),
		task_try_time_running, task_try_time_returned
		FROM try WHERE try_key BETWEEN ? AND ? AND task_try_time_running IS NOT NULL`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read tries: %w", err)
	}
	defer rows.Close()
	var task, try sql.NullInt64
	var key, startText, endText sql.RawBytes
	var failed bool
	// Looking a []byte up as a string does not allocate: only a new lane does.
	byKey := map[string]*lane{}
	for rows.Next() {
		if err := rows.Scan(&task, &try, &key, &failed, &startText, &endText); err != nil {
			return nil, fmt.Errorf("read tries: %w", err)
		}
		start, ok := parseStamp(startText)
		if !ok {
			continue
		}
		end, ended := parseStamp(endText)
		l := byKey[string(key)]
		if l == nil {
			f := strings.SplitN(string(key), "\x00", 4)
			for len(f) < 4 {
				f = append(f, "")
			}
			k := laneKey{f[0], f[1], f[2], f[3]}
			l = &lane{key: k, busy: make([]float64, ax.n), bad: make([]float64, ax.n)}
			agg.lanes[k] = l
			byKey[string(key)] = l
		}
		agg.tries++
		x0 := ax.pos(start)
		x1 := float64(ax.n)
		if ended {
			x1 = ax.pos(end)
		}
		addSpan(l.busy, x0, x1)
		if failed {
			addSpan(l.bad, x0, x1)
		}
		l.tries++
		if exact {
			l.bars = append(l.bars, bar{task: task.Int64, try: try.Int64, x0: x0, x1: x1, failed: failed, running: !ended})
		}
		b := chart.bucket(start)
		agg.delta[catWaiting][b]--
		agg.delta[catRunning][b]++
		if ended {
			b := chart.bucket(end)
			agg.delta[catRunning][b]--
			agg.delta[catWaiting][b]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tries: %w", err)
	}
	return agg, nil
}

// addSpan adds the interval [x0, x1) of columns to cols, each column
// getting the fraction of it the interval covers.
func addSpan(cols []float64, x0, x1 float64) {
	if x1 <= x0 {
		// An instant still occupies its column, a little, so a try that
		// returned at once is not invisible.
		x1 = x0 + 0.01
	}
	c0, c1 := int(x0), int(x1)
	if c0 >= len(cols) {
		c0 = len(cols) - 1
	}
	if c1 >= len(cols) {
		c1, x1 = len(cols)-1, float64(len(cols))
	}
	if c0 == c1 {
		cols[c0] += x1 - x0
		return
	}
	cols[c0] += float64(c0+1) - x0
	for c := c0 + 1; c < c1; c++ {
		cols[c]++
	}
	cols[c1] += x1 - float64(c1)
}
