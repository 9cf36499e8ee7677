package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// runCharts are the run page's sections that summarize every task and
// try: the costly part of the page.
type runCharts struct {
	Timeline timelineView
	States   stateChartView
	Apps     []appSummary
}

// runCharts computes the run's charts, or takes them from the cache. The
// timeline comes first, on its own channel, so the page can send it while
// the task table is still being read.
func (s *Server) runCharts(ctx context.Context, db *sql.DB, run *runSummary) (<-chan result[timelineView], <-chan result[*runCharts]) {
	timeline := make(chan result[timelineView], 1)
	all := make(chan result[*runCharts], 1)
	stamp := ""
	if !run.Running() {
		stamp = s.dbs.stamp(run.ID)
		if c, ok := s.charts.get(run.ID, stamp); ok {
			timeline <- result[timelineView]{c.Timeline, nil}
			all <- result[*runCharts]{c, nil}
			return timeline, all
		}
	}
	cols := newAxis(run.T0, run.T1, columns)
	chart := newAxis(run.T0, run.T1, chartBuckets)
	tasksCh := async(func() (*taskAgg, error) { return scanTasks(ctx, db, run, chart) })
	triesCh := async(func() (*tryAgg, error) {
		lo, hi := run.tryKeys()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM try WHERE try_key BETWEEN ? AND ?", lo, hi).Scan(&n); err != nil {
			return nil, fmt.Errorf("count tries: %w", err)
		}
		return scanTries(ctx, db, run, cols, chart, n <= exactTries)
	})
	go func() {
		tr := <-triesCh
		var tv timelineView
		if tr.err == nil {
			tv = buildTimeline(tr.v, run.T1-run.T0, func(task int64) string {
				return "/runs/" + run.ID + "/tasks/" + strconv.FormatInt(task, 10)
			})
		}
		timeline <- result[timelineView]{tv, tr.err}
		ta := <-tasksCh
		if err := errors.Join(tr.err, ta.err); err != nil {
			all <- result[*runCharts]{nil, err}
			return
		}
		c := &runCharts{Timeline: tv, States: buildStateChart(ta.v, tr.v, run.T1-run.T0), Apps: ta.v.appTable()}
		if stamp != "" {
			s.charts.put(run.ID, stamp, c)
		}
		all <- result[*runCharts]{c, nil}
	}()
	return timeline, all
}

// runCache keeps what was computed from finished runs: their charts,
// their task counts. A finished run's database no longer changes, so a
// reload, or a second person looking, costs nothing; the stamp (the
// files' sizes and times) notices a database that was replaced all the
// same.
type runCache[T any] struct {
	mu   sync.Mutex
	runs int // how many it keeps
	m    map[string]cached[T]
}

type cached[T any] struct {
	stamp string
	v     T
}

func newRunCache[T any](runs int) *runCache[T] {
	return &runCache[T]{runs: runs, m: map[string]cached[T]{}}
}

func (c *runCache[T]) get(id, stamp string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && e.stamp == stamp && stamp != "" {
		return e.v, true
	}
	var zero T
	return zero, false
}

func (c *runCache[T]) put(id, stamp string, v T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= c.runs {
		for k := range c.m { // any one: runs are looked at in no useful order
			delete(c.m, k)
			break
		}
	}
	c.m[id] = cached[T]{stamp, v}
}

// stamp identifies the database's content by its files' sizes and
// modification times (the WAL holds commits not yet copied into the
// file); "" when they cannot be read.
func (r *runDBs) stamp(id string) string {
	p := r.path(id)
	var s string
	for _, f := range []string{p, p + "-wal"} {
		fi, err := os.Stat(f)
		switch {
		case errors.Is(err, os.ErrNotExist) && f != p:
			s += "|-"
		case err != nil:
			return ""
		default:
			s += fmt.Sprintf("|%d@%d", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s
}
