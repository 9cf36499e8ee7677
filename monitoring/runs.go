package monitoring

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// What a run folder says about its run, for `starflow runs` and the
// dashboard's runs list. Three files may tell, from the most to the least
// complete: run.json, written by `starflow run` once it knows the exit
// status; monitoring.db, when monitoring was on (it is the only one a
// crashed run leaves with its task counts); starflow.log, which every run
// has.

// RecordFile is the name of the run record in a run folder.
const RecordFile = "run.json"

// Record is what `starflow run` writes into each of its run folders when
// it ends.
type Record struct {
	Script     string    `json:"script"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Tasks      int64     `json:"tasks"`
	Done       int64     `json:"done"`
	Failed     int64     `json:"failed"`
	ExitStatus int       `json:"exit_status"`
}

// WriteRecord writes rec into dir/run.json, atomically: a reader sees the
// old file or the new one.
func WriteRecord(dir string, rec Record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	tmp := filepath.Join(dir, RecordFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, RecordFile)); err != nil {
		return fmt.Errorf("run record: %w", err)
	}
	return nil
}

// Run is one past (or running) run as its folder describes it. Unknown
// values are zero: Start, End and Script when no file says, and
// ExitStatus is nil unless run.json was written.
type Run struct {
	ID         string // the folder's name: 000, 001, ...
	Dir        string
	Script     string
	Start, End time.Time
	Tasks      int64
	Done       int64
	Failed     int64
	ExitStatus *int
	// Database is the path of monitoring.db when the folder has one this
	// build reads; DatabaseErr says why one that is there cannot be read.
	Database    string
	DatabaseErr error
}

// Duration is End-Start, or 0 when either is unknown.
func (r *Run) Duration() time.Duration {
	if r.Start.IsZero() || r.End.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// ListRuns reads every numbered run folder under root, oldest first.
func ListRuns(ctx context.Context, root string) ([]Run, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	type numbered struct {
		n    int
		name string
	}
	var dirs []numbered
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && n >= 0 {
			dirs = append(dirs, numbered{n, e.Name()})
		}
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].n < dirs[j].n })
	runs := make([]Run, 0, len(dirs))
	for _, d := range dirs {
		runs = append(runs, ReadRun(ctx, filepath.Join(root, d.name)))
	}
	return runs, nil
}

// ReadRun reads what dir says about its run. It never fails: what cannot
// be read stays unknown.
func ReadRun(ctx context.Context, dir string) Run {
	r := Run{ID: filepath.Base(dir), Dir: dir}
	r.fromLog(filepath.Join(dir, "starflow.log"))
	r.fromDatabase(ctx, filepath.Join(dir, FileName))
	r.fromRecord(filepath.Join(dir, RecordFile))
	return r
}

func (r *Run) fromRecord(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var rec Record
	if json.Unmarshal(b, &rec) != nil {
		return
	}
	r.Script, r.Start, r.End = rec.Script, rec.Start, rec.End
	r.Tasks, r.Done, r.Failed = rec.Tasks, rec.Done, rec.Failed
	code := rec.ExitStatus
	r.ExitStatus = &code
}

func (r *Run) fromDatabase(ctx context.Context, path string) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		r.DatabaseErr = err
		return
	}
	defer db.Close()
	var (
		name            sql.NullString
		began, finished sql.NullString
		done, failed    int64
		tasks           int64
	)
	// A database may hold several runs (a shared logging_endpoint); a run
	// folder's is its latest.
	err = db.QueryRowContext(ctx, `SELECT workflow_name, time_began, time_completed, tasks_completed_count,
		tasks_failed_count, (SELECT count(*) FROM task t WHERE t.run_id = w.run_id)
		FROM workflow w ORDER BY time_began DESC LIMIT 1`).Scan(&name, &began, &finished, &done, &failed, &tasks)
	if err != nil {
		r.DatabaseErr = fmt.Errorf("%s: %w", path, err)
		return
	}
	r.Database = path
	if name.Valid && r.Script == "" {
		r.Script = name.String
	}
	if t, err := ParseTime(began.String); err == nil {
		r.Start = t
	}
	if t, err := ParseTime(finished.String); err == nil {
		r.End = t
	}
	r.Tasks, r.Done, r.Failed = tasks, done, failed
}

// fromLog reads the "run started" and "run finished" lines of an hclog
// run log. The log is plain text for people; only what `starflow run`
// writes there on purpose is read.
func (r *Run) fromLog(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		at, msg, fields, ok := parseLogLine(line)
		if !ok {
			continue
		}
		if r.Start.IsZero() {
			r.Start = at // the first line is as early as the log knows
		}
		switch msg {
		case "run started":
			r.Start = at
			if s := fields["script"]; s != "" {
				r.Script = filepath.Base(s)
			}
		case "run finished":
			r.End = at
			r.Tasks = atoi(fields["tasks"])
			r.Done = atoi(fields["done"])
			r.Failed = atoi(fields["failed"]) + atoi(fields["cancelled"])
			if secs, err := strconv.ParseFloat(fields["seconds"], 64); err == nil && !at.IsZero() {
				r.End = at
				if r.Start.IsZero() {
					r.Start = at.Add(-time.Duration(secs * float64(time.Second)))
				}
			}
		}
	}
}

// logTimeLayout is cmd/starflow's hclog TimeFormat.
const logTimeLayout = "2006-01-02 15:04:05.000"

// parseLogLine splits `2025-01-02 15:04:05.000 [INFO]  starflow: msg: k=v k2="v 2"`.
func parseLogLine(line string) (time.Time, string, map[string]string, bool) {
	if len(line) < len(logTimeLayout) {
		return time.Time{}, "", nil, false
	}
	at, err := time.ParseInLocation(logTimeLayout, line[:len(logTimeLayout)], time.Local)
	if err != nil {
		return time.Time{}, "", nil, false
	}
	rest := line[len(logTimeLayout):]
	_, rest, ok := strings.Cut(rest, "] ")
	if !ok {
		return at, "", nil, true
	}
	rest = strings.TrimSpace(rest)
	// "starflow: run started: k=v": the logger's name, then the message.
	if _, after, ok := strings.Cut(rest, ": "); ok {
		rest = after
	}
	msg, kv, _ := strings.Cut(rest, ": ")
	return at, msg, parseFields(kv), true
}

// parseFields reads hclog's k=v pairs; values may be double-quoted.
func parseFields(s string) map[string]string {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				v, _ = strconv.Unquote(q)
				rest = rest[len(q):]
			} else {
				v, rest = rest, ""
			}
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		out[k] = v
		s = rest
	}
	return out
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
