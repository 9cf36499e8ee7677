package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/starflow-hpc/starflow/monitoring"
)

// taskFilter is the task table's query string: ?state=&app=&q=&page=.
type taskFilter struct {
	State string
	App   string
	Text  string
	Page  int // from 1
}

// pageSize is the task table's rows per page.
const pageSize = 100

// where is the filter as an SQL condition on the run's tasks and its
// arguments.
func (f taskFilter) where(run *runSummary) (string, []any) {
	lo, hi := run.taskKeys()
	conds := []string{"task_key BETWEEN ? AND ?"}
	args := []any{lo, hi}
	switch f.State {
	case "":
	case "finished_failed": // the run page's "failed" link: both final failure states
		conds = append(conds, "task_status_name IN ('failed', 'dep_fail')")
	default:
		conds = append(conds, "task_status_name = ?")
		args = append(args, f.State)
	}
	if f.App != "" {
		conds = append(conds, "task_func_name = ?")
		args = append(args, f.App)
	}
	if f.Text != "" {
		// A number is a task id; any text is looked for in the app name,
		// host, log paths and error text (case-insensitive for ASCII).
		like := "%" + escapeLike(f.Text) + "%"
		var ors []string
		for _, col := range []string{"task_func_name", "hostname", "task_stdout", "task_stderr", "task_fail_history"} {
			ors = append(ors, col+` LIKE ? ESCAPE '\'`)
			args = append(args, like)
		}
		if id, err := strconv.ParseInt(strings.TrimSpace(f.Text), 10, 64); err == nil {
			ors = append(ors, "task_id = ?")
			args = append(args, id)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// taskRow is one line of the task table.
type taskRow struct {
	ID      int64
	App     string
	State   string
	Fails   int
	Invoked string
	RunTime sql.NullFloat64 // its last try's, seconds
	Wall    sql.NullFloat64 // invoked to returned, seconds
	Host    string
	Error   string // first line of the last error
}

type taskPage struct {
	Rows       []taskRow
	Total      int
	Page       int
	Pages      int
	First      int // 1-based index of the first row shown
	Last       int
	Apps       []string
	StateNames []string
}

func loadTaskPage(ctx context.Context, db *sql.DB, run *runSummary, f taskFilter) (*taskPage, error) {
	where, args := f.where(run)
	p := &taskPage{StateNames: states}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM task"+where, args...).Scan(&p.Total); err != nil {
		return nil, fmt.Errorf("count tasks: %w", err)
	}
	p.Pages = max(1, (p.Total+pageSize-1)/pageSize)
	p.Page = min(max(f.Page, 1), p.Pages)
	offset := (p.Page - 1) * pageSize
	rows, err := db.QueryContext(ctx, `SELECT task_id, task_func_name, task_status_name, task_fail_count, COALESCE(task_time_invoked, ''),
		`+elapsed("task_time_running", "task_time_returned")+`,
		`+elapsed("task_time_invoked", "task_time_returned")+`,
		COALESCE(hostname, ''), COALESCE(task_fail_history, '')
		FROM task`+where+` ORDER BY task_key LIMIT `+strconv.Itoa(pageSize)+` OFFSET `+strconv.Itoa(offset), args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r taskRow
		var hist string
		if err := rows.Scan(&r.ID, &r.App, &r.State, &r.Fails, &r.Invoked, &r.RunTime, &r.Wall, &r.Host, &hist); err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		r.Error = lastError(hist)
		p.Rows = append(p.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	p.First, p.Last = offset+1, offset+len(p.Rows)
	if len(p.Rows) == 0 {
		p.First = 0
	}
	p.Apps, err = loadAppNames(ctx, db, run)
	return p, err
}

// loadAppNames lists the apps for the filter menu.
func loadAppNames(ctx context.Context, db *sql.DB, run *runSummary) ([]string, error) {
	lo, hi := run.taskKeys()
	rows, err := db.QueryContext(ctx, "SELECT DISTINCT task_func_name FROM task WHERE task_key BETWEEN ? AND ? ORDER BY 1", lo, hi)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	defer rows.Close()
	var apps []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("list apps: %w", err)
		}
		apps = append(apps, a)
	}
	return apps, rows.Err()
}

// lastError is the first line of the last error in a fail history (one
// error per failed try, in order), for a table cell.
func lastError(hist string) string {
	hist = strings.TrimSpace(hist)
	if hist == "" {
		return ""
	}
	lines := strings.Split(hist, "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(last) > 160 {
		last = last[:157] + "..."
	}
	return last
}

// taskDetail is everything the task page shows.
type taskDetail struct {
	ID                          int64
	App, State, Kind, Executor  string
	Memoize, Hashsum            string
	Inputs, Outputs             string
	Stdin, Stdout, Stderr       string
	Invoked, Running, Returned  string
	Fails                       int
	FailCost                    float64
	History                     string
	Host                        string
	Deps                        []taskLink
	Dependents                  []taskLink
	DependentsMore              bool
	Tries                       []tryRow
	Statuses                    []statusRow
	Resources                   []resourceRow
	ResourcesMore               bool
	RSSChart, CPUChart          string
	ResourceMaxRSS, ResourceCPU float64
}

type taskLink struct {
	ID         int64
	App, State string
	Missing    bool
}

type tryRow struct {
	Try                         int
	Executor, Block, Host       string
	Worker, Status              string
	Launched, Running, Returned string
	Joining                     string
	Duration                    sql.NullFloat64
	Error                       string
}

type statusRow struct {
	State, Time string
	Try         int
}

var errNoTask = errors.New("no such task")

func loadTask(ctx context.Context, db *sql.DB, run *runSummary, id int64) (*taskDetail, error) {
	d := &taskDetail{ID: id}
	var deps string
	var ns [14]sql.NullString
	err := db.QueryRowContext(ctx, `SELECT task_func_name, task_status_name, task_kind, task_executor, task_memoize, task_hashsum,
		task_inputs, task_outputs, task_stdin, task_stdout, task_stderr, task_time_invoked, task_time_running, task_time_returned,
		task_fail_count, task_fail_cost, COALESCE(task_fail_history, ''), COALESCE(hostname, ''), COALESCE(task_depends, '')
		FROM task WHERE task_key = ?`, run.taskKey(id)).Scan(&d.App, &d.State, &ns[0], &ns[1], &ns[2], &ns[3], &ns[4], &ns[5], &ns[6], &ns[7], &ns[8],
		&ns[9], &ns[10], &ns[11], &d.Fails, &d.FailCost, &d.History, &d.Host, &deps)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoTask
	}
	if err != nil {
		return nil, fmt.Errorf("read task %d: %w", id, err)
	}
	d.Kind, d.Executor, d.Memoize, d.Hashsum = ns[0].String, ns[1].String, ns[2].String, ns[3].String
	d.Inputs, d.Outputs, d.Stdin, d.Stdout, d.Stderr = ns[4].String, ns[5].String, ns[6].String, ns[7].String, ns[8].String
	d.Invoked, d.Running, d.Returned = ns[9].String, ns[10].String, ns[11].String
	if d.Deps, err = loadDeps(ctx, db, run, deps); err != nil {
		return nil, err
	}
	if d.Dependents, d.DependentsMore, err = loadDependents(ctx, db, run, id); err != nil {
		return nil, err
	}
	if d.Tries, err = loadTries(ctx, db, run, id); err != nil {
		return nil, err
	}
	d.Statuses = d.statuses()
	if err := loadResources(ctx, db, run, d); err != nil {
		return nil, err
	}
	return d, nil
}

// loadDeps reads task_depends ("3,7", Parsl's comma-separated ids) and
// looks the tasks up for their app and state.
func loadDeps(ctx context.Context, db *sql.DB, run *runSummary, deps string) ([]taskLink, error) {
	var links []taskLink
	seen := map[int64]bool{}
	for _, s := range strings.Split(deps, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id < 0 || id >= monitoring.MaxTasks || seen[id] {
			continue
		}
		seen[id] = true
		l := taskLink{ID: id}
		err = db.QueryRowContext(ctx, "SELECT task_func_name, task_status_name FROM task WHERE task_key = ?", run.taskKey(id)).Scan(&l.App, &l.State)
		if errors.Is(err, sql.ErrNoRows) {
			l.Missing = true
		} else if err != nil {
			return nil, fmt.Errorf("read dependency %d: %w", id, err)
		}
		links = append(links, l)
	}
	return links, nil
}

// dependentsLimit bounds the dependents listed: a task that every other
// depends on would otherwise list the whole run.
const dependentsLimit = 100

// loadDependents finds the tasks whose task_depends names id. There is no
// index on a comma-separated list, so this reads the column once.
func loadDependents(ctx context.Context, db *sql.DB, run *runSummary, id int64) ([]taskLink, bool, error) {
	lo, hi := run.taskKeys()
	rows, err := db.QueryContext(ctx, `SELECT task_id, task_func_name, task_status_name FROM task
		WHERE task_key BETWEEN ? AND ? AND task_depends IS NOT NULL AND instr(',' || replace(task_depends, ' ', '') || ',', ?) > 0
		ORDER BY task_key LIMIT ?`, lo, hi, ","+strconv.FormatInt(id, 10)+",", dependentsLimit+1)
	if err != nil {
		return nil, false, fmt.Errorf("find dependents of task %d: %w", id, err)
	}
	defer rows.Close()
	var out []taskLink
	for rows.Next() {
		var l taskLink
		if err := rows.Scan(&l.ID, &l.App, &l.State); err != nil {
			return nil, false, fmt.Errorf("find dependents of task %d: %w", id, err)
		}
		out = append(out, l)
	}
	more := len(out) > dependentsLimit
	if more {
		out = out[:dependentsLimit]
	}
	return out, more, rows.Err()
}

func loadTries(ctx context.Context, db *sql.DB, run *runSummary, id int64) ([]tryRow, error) {
	k := run.taskKey(id)
	rows, err := db.QueryContext(ctx, `SELECT try_id, task_executor, COALESCE(block_id, ''), COALESCE(hostname, ''), COALESCE(worker_id, ''),
		COALESCE(task_try_status_name, ''), COALESCE(task_try_time_launched, ''), COALESCE(task_try_time_running, ''),
		COALESCE(task_try_time_joining, ''), COALESCE(task_try_time_returned, ''),
		`+elapsed("task_try_time_running", "task_try_time_returned")+`, COALESCE(task_fail_history, '')
		FROM try WHERE try_key BETWEEN ? AND ? ORDER BY try_key`, monitoring.TryKey(k, 0), monitoring.TryKey(k, monitoring.MaxTries-1))
	if err != nil {
		return nil, fmt.Errorf("read tries of task %d: %w", id, err)
	}
	defer rows.Close()
	var out []tryRow
	for rows.Next() {
		var r tryRow
		if err := rows.Scan(&r.Try, &r.Executor, &r.Block, &r.Host, &r.Worker, &r.Status, &r.Launched, &r.Running,
			&r.Joining, &r.Returned, &r.Duration, &r.Error); err != nil {
			return nil, fmt.Errorf("read tries of task %d: %w", id, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// statuses are the task's transitions, as the status view lists them:
// pending, each try's launched, running and joining, and its final
// state with its last try. Ties keep that order.
func (d *taskDetail) statuses() []statusRow {
	var out []statusRow
	add := func(state, at string, try int) {
		if at != "" {
			out = append(out, statusRow{State: state, Time: at, Try: try})
		}
	}
	add("pending", d.Invoked, 0)
	last := 0
	for _, tr := range d.Tries {
		add("launched", tr.Launched, tr.Try)
		add("running", tr.Running, tr.Try)
		add("joining", tr.Joining, tr.Try)
		last = tr.Try
	}
	add(d.State, d.Returned, last)
	// Timestamps in the database's layout sort as text.
	slices.SortStableFunc(out, func(a, b statusRow) int { return strings.Compare(a.Time, b.Time) })
	return out
}
