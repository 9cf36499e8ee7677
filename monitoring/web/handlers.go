package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// runsLimit is how many runs the list summarizes; each costs a database
// open and a count, and nobody reads the thousandth line.
const runsLimit = 100

type runsPage struct {
	pageBase
	Runs    []runLine
	Missing bool // the runinfo folder does not exist
	More    int  // runs beyond runsLimit
}

// runLine is one run in the list: its summary, or why there is none.
type runLine struct {
	ID      string
	Summary *runSummary
	Problem string
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	page := runsPage{pageBase: pageBase{Title: "Runs", RunInfo: s.root}}
	ids, err := RunIDs(s.root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		page.Missing = true
	case err != nil:
		s.fail(w, r, &problem{http.StatusUnprocessableEntity, "Cannot read the runinfo folder", err.Error()})
		return
	}
	if len(ids) > runsLimit {
		page.More = len(ids) - runsLimit
		ids = ids[:runsLimit]
	}
	for _, id := range ids {
		line := runLine{ID: id}
		line.Summary, err = s.summary(r.Context(), id)
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			var p *problem
			if errors.As(err, &p) {
				line.Problem = p.title + ". " + p.detail
			} else {
				line.Problem = err.Error()
			}
		}
		page.Runs = append(page.Runs, line)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.render(w, "runs", page)
}

// summary is a run's workflow row and state counts.
func (s *Server) summary(ctx context.Context, id string) (*runSummary, error) {
	db, err := s.dbs.open(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.loadSummary(ctx, db, id)
}

// loadSummary reads the run and counts its tasks by state. A finished
// run's counts are kept: counting reads the whole task table.
func (s *Server) loadSummary(ctx context.Context, db *sql.DB, id string) (*runSummary, error) {
	run, err := loadStartedRun(ctx, db, id)
	if err != nil {
		return nil, err
	}
	stamp := ""
	if !run.Running() {
		stamp = s.dbs.stamp(id)
		if c, ok := s.counts.get(id, stamp); ok {
			run.Counts = c
			return run, nil
		}
	}
	if run.Counts, err = loadCounts(ctx, db, run); err != nil {
		return nil, err
	}
	if stamp != "" {
		s.counts.put(id, stamp, run.Counts)
	}
	return run, nil
}

// loadStartedRun is loadRun, with a run that recorded nothing yet said to
// the user.
func loadStartedRun(ctx context.Context, db *sql.DB, id string) (*runSummary, error) {
	run, err := loadRun(ctx, db, id)
	if errors.Is(err, errNoWorkflow) {
		return nil, &problem{http.StatusNotFound, "Run not started", fmt.Sprintf(
			"Run %s's monitoring database has no workflow row yet: the run is starting, or stopped before it recorded anything.", id)}
	}
	return run, err
}

// runPageData is what the run page's sections share.
type runPageData struct {
	pageBase
	Run       *runSummary
	Timeline  timelineView
	States    stateChartView
	Apps      []appSummary
	Failures  []failure
	FailTotal int
	Blocks    []blockRow
	Err       string // the section's failure, shown in its place
}

// result is a section's data arriving from its query.
type result[T any] struct {
	v   T
	err error
}

// async runs f on its own goroutine; the channel's buffer lets it finish
// even when the page has stopped waiting (the browser went away).
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}

// runPage streams: the header (the workflow row and state counts, both
// cheap) goes out at once, and each section follows as its query ends.
// The sections' queries run at the same time, on their own connections.
func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("run")
	db, err := s.dbs.open(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.loadSummary(ctx, db, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	timelineCh, chartsCh := s.runCharts(ctx, db, run)
	failCh := async(func() ([]failure, error) { return loadFailures(ctx, db, run) })
	blocksCh := async(func() ([]blockRow, error) { return loadBlocks(ctx, db, run) })

	d := &runPageData{pageBase: pageBase{Title: "Run " + id, RunInfo: s.root, RunID: id, Refresh: run.Running()}, Run: run}
	d.FailTotal = run.Counts["failed"]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.render(w, "run_head", d)
	flush(w)

	section := func(name string, err error) {
		d.Err = ""
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("dashboard section failed", "run", id, "section", name, "error", err)
			d.Err = err.Error()
		}
		s.render(w, name, d)
		flush(w)
	}
	tl := <-timelineCh
	d.Timeline = tl.v
	section("run_timeline", tl.err)
	ch := <-chartsCh
	if ch.err == nil {
		d.States, d.Apps = ch.v.States, ch.v.Apps
	}
	section("run_states", ch.err)
	section("run_apps", ch.err)
	fr := <-failCh
	d.Failures = fr.v
	section("run_failures", fr.err)
	br := <-blocksCh
	d.Blocks = br.v
	section("run_blocks", br.err)
	s.render(w, "foot", d)
}

type tasksPageData struct {
	pageBase
	Filter taskFilter
	*taskPage
	PrevURL, NextURL string
}

func (s *Server) tasksPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("run")
	db, err := s.dbs.open(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := taskFilter{State: q.Get("state"), App: q.Get("app"), Text: strings.TrimSpace(q.Get("q")), Page: 1}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			s.problem(w, &problem{http.StatusBadRequest, "Bad page number", fmt.Sprintf("page=%q: give a whole number from 1.", p)})
			return
		}
		f.Page = n
	}
	run, err := loadStartedRun(ctx, db, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := loadTaskPage(ctx, db, run, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := tasksPageData{pageBase: pageBase{Title: "Tasks of run " + id, RunInfo: s.root, RunID: id}, Filter: f, taskPage: page}
	link := func(p int) string {
		return string(tasksURL(id, "state", f.State, "app", f.App, "q", f.Text, "page", strconv.Itoa(p)))
	}
	if page.Page > 1 {
		d.PrevURL = link(page.Page - 1)
	}
	if page.Page < page.Pages {
		d.NextURL = link(page.Page + 1)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.render(w, "tasks", d)
}

type taskPageData struct {
	pageBase
	Task *taskDetail
}

func (s *Server) taskPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("run")
	tid, ok := parseID(r.PathValue("task"))
	if !ok {
		s.problem(w, &problem{http.StatusNotFound, "No such task", fmt.Sprintf("%q is not a task id: task ids are whole numbers from 0.", r.PathValue("task"))})
		return
	}
	db, err := s.dbs.open(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := loadStartedRun(ctx, db, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := loadTask(ctx, db, run, tid)
	if errors.Is(err, errNoTask) {
		s.problem(w, &problem{http.StatusNotFound, "No such task", fmt.Sprintf("Run %s has no task %d.", id, tid)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.render(w, "task", taskPageData{pageBase{Title: fmt.Sprintf("Task %d · %s", tid, t.App), RunInfo: s.root, RunID: id}, t})
}
