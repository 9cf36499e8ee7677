package web

import (
	"database/sql"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
)

// newTestServer serves the dashboard for root.
func newTestServer(t testing.TB, root string) *httptest.Server {
	t.Helper()
	ts, _ := newTestServerAnd(t, root)
	return ts
}

func newTestServerAnd(t testing.TB, root string) (*httptest.Server, *Server) {
	t.Helper()
	s, err := New(Options{RunInfo: root})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return ts, s
}

// get fetches path and returns the status and body.
func get(t testing.TB, ts *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// page fetches path, wants status, and checks that the body is a whole
// page (a template that failed half-way leaves no closing tag).
func page(t *testing.T, ts *httptest.Server, path string, status int) string {
	t.Helper()
	got, body := get(t, ts, path)
	if got != status {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, got, status, body)
	}
	if !strings.HasSuffix(strings.TrimSpace(body), "</html>") {
		t.Fatalf("GET %s: page is cut short:\n%s", path, tail(body))
	}
	for _, bad := range []string{"goroutine ", "panic", ".go:", "Could not read this part"} {
		if strings.Contains(body, bad) {
			t.Fatalf("GET %s: page shows %q:\n%s", path, bad, body)
		}
	}
	return body
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// text is the page's visible text, tags dropped and spaces collapsed, so
// assertions read like what a user sees.
func text(html string) string {
	html = regexp.MustCompile(`(?s)<(script|style|title)[^>]*>.*?</(script|style|title)>`).ReplaceAllString(html, " ")
	// Inline tags join the words around them; the others separate them.
	html = regexp.MustCompile(`</?(a|b|code|span)( [^>]*)?>`).ReplaceAllString(html, "")
	html = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, " ")
	html = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`).Replace(html)
	return strings.Join(strings.Fields(html), " ")
}

func wantText(t *testing.T, body string, want ...string) {
	t.Helper()
	txt := text(body)
	for _, w := range want {
		if !strings.Contains(txt, w) {
			t.Errorf("page lacks %q; its text:\n%s", w, txt)
		}
	}
}

func TestRunPageSmall(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	ts := newTestServer(t, root)
	body := page(t, ts, "/runs/000/", 200)
	wantText(t, body,
		"Run 000 · small.star", "no end recorded", "6 tasks", "exec_done 2", "failed 1", "dep_fail 1", "memo_done 1", "running 1",
		// Timeline: every try drawn, per worker.
		"Timeline · tries per worker", "6 tries",
		// Apps: simulate's run times are 2 s and 2.5 s.
		"simulate 2 1 1 2 2.25 s 2.50 s 2.50 s", "fetch 2 2 0 1 2.00 s 2.00 s 2.00 s", "analyze 1 0 0 0 – – –",
		// Failures with their error and logs.
		"1 task failed, and 1 more because a dependency did", "task 2 simulate failed after 2 failed tries",
		smallRunFailure, "stdout runinfo/000/task_logs/2.out", "stderr runinfo/000/task_logs/2.err",
		"Blocks", "htex 0 4711 RUNNING",
	)
	// A failed try links to its task and is drawn as failed.
	if !strings.Contains(body, `<a href="/runs/000/tasks/2"><rect class="try bad"`) {
		t.Errorf("timeline has no failed bar for task 2:\n%s", body)
	}
	// The still-running try of task 5 runs to the end of the axis.
	if !regexp.MustCompile(`<rect class="try run" x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+"><title>task 5, try 0, running`).MatchString(body) {
		t.Errorf("timeline has no running bar for task 5")
	}
}

func TestTasksPageFilters(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	ts := newTestServer(t, root)
	for _, tc := range []struct {
		query string
		want  []string // task ids listed, in order
	}{
		{"", []string{"0", "1", "2", "3", "4", "5"}},
		{"?state=failed", []string{"2"}},
		{"?state=finished_failed", []string{"2", "3"}},
		{"?app=fetch", []string{"0", "4"}},
		{"?app=simulate&state=exec_done", []string{"1"}},
		{"?q=ZeroDivision", []string{"2"}},
		{"?q=zerodivision", []string{"2"}},
		{"?q=3", []string{"3"}},
		{"?q=100%25", nil},
		{"?q=s_l", nil}, // "_" is a character, not LIKE's wildcard ("task_logs" has "k_l")
		{"?state=no_such_state", nil},
		{"?app=nope", nil},
	} {
		body := page(t, ts, "/runs/000/tasks"+tc.query, 200)
		ids := regexp.MustCompile(`<td class="num"><a href="/runs/000/tasks/(\d+)">`).FindAllStringSubmatch(body, -1)
		var got []string
		for _, m := range ids {
			got = append(got, m[1])
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("tasks%s: listed %v, want %v", tc.query, got, tc.want)
		}
		if tc.want == nil {
			wantText(t, body, "No task matches.")
		}
	}
	body := page(t, ts, "/runs/000/tasks?state=failed", 200)
	wantText(t, body, "1–1 of 1 task", "2 simulate failed 2", smallRunFailure)
}

func TestTaskPage(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	ts := newTestServer(t, root)
	body := page(t, ts, "/runs/000/tasks/2", 200)
	wantText(t, body,
		"Task 2 · simulate failed", "failed tries 2", "stdout runinfo/000/task_logs/2.out",
		"Error "+smallRunFailure+" "+smallRunFailure,
		"Waits on: task 0 fetch exec_done", "Needed by: task 3 plot dep_fail",
		"0 failed htex 0 node1 0 2026-03-04 10:00:02.000 2026-03-04 10:00:02.000 2026-03-04 10:00:03.000 1.00 s "+smallRunFailure,
		"1 failed htex 0 node1 0 2026-03-04 10:00:03.000 2026-03-04 10:00:03.000 2026-03-04 10:00:05.500 2.50 s "+smallRunFailure,
		"10:00:00.000 pending try 0", "10:00:05.500 failed try 1",
		"resident memory, peak 200.0 MiB", "1 2026-03-04 10:00:03.500 4242 250 ms 50 ms 100.0 MiB",
	)
	if !strings.Contains(body, `href="/runs/000/tasks/0"`) || !strings.Contains(body, `href="/runs/000/tasks/3"`) {
		t.Errorf("task 2's page does not link its dependency and dependent")
	}
	body = page(t, ts, "/runs/000/tasks/4", 200)
	wantText(t, body, "Task 4 · fetch memo_done", "No try: the task never ran (its result came from the memo store).", "No samples")
	body = page(t, ts, "/runs/000/tasks/3", 200)
	wantText(t, body, "Waits on: task 1 simulate exec_done task 2 simulate failed", "DependencyError: task 2 failed")
}

// TestBadInput: whatever the folder holds, the answer is a page that
// says what is wrong, never a 500.
func TestBadInput(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	// 001: a run without monitoring.
	if err := os.MkdirAll(filepath.Join(root, "001"), 0o755); err != nil {
		t.Fatal(err)
	}
	// 002: an older schema, 003: a newer one.
	setVersion(t, createDB(t, root, "002", false), monitoring.SchemaVersion-1)
	setVersion(t, createDB(t, root, "003", false), monitoring.SchemaVersion+1)
	// 004: Parsl's own database: same tables, no starflow application id.
	parsl := createDB(t, root, "004", false)
	if _, err := parsl.Exec("PRAGMA application_id = 0"); err != nil {
		t.Fatal(err)
	}
	// 005: starflow's pragmas, a table gone.
	if _, err := createDB(t, root, "005", false).Exec("DROP TABLE try"); err != nil {
		t.Fatal(err)
	}
	// 006: not SQLite at all.
	if err := os.MkdirAll(filepath.Join(root, "006"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "006", monitoring.FileName), []byte("not a database, just text, long enough to have a header"), 0o644); err != nil {
		t.Fatal(err)
	}
	// 007: created, nothing recorded yet.
	createDB(t, root, "007", false)
	// notes: not a run.
	if err := os.MkdirAll(filepath.Join(root, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, root)

	body := page(t, ts, "/", 200)
	wantText(t, body,
		"000 small.star",
		"001 No monitoring database. Run 001 has no "+filepath.Join(root, "001", "monitoring.db")+": it ran without monitoring.",
		"002 Monitoring database from another starflow version.", "written by an older starflow",
		"003 Monitoring database from another starflow version.", "written by a newer starflow",
		"004 Not a starflow monitoring database.",
		"005 Incomplete monitoring database.", "has no table try",
		"006 Cannot read the monitoring database.",
		"007 Run not started.",
	)
	if strings.Contains(text(body), "notes") {
		t.Errorf("runs list shows a folder that is not a run")
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/runs/001/", 404, "it ran without monitoring. Turn it on with Config(monitoring=MonitoringHub())"},
		{"/runs/001/tasks", 404, "No monitoring database"},
		{"/runs/001/tasks/1", 404, "No monitoring database"},
		{"/runs/002/", 422, fmt.Sprintf("was written by an older starflow (this one reads version %d)", monitoring.SchemaVersion)},
		{"/runs/003/tasks", 422, "was written by a newer starflow"},
		{"/runs/004/", 422, "was not written by starflow"},
		{"/runs/005/", 422, "has no table try"},
		{"/runs/006/", 422, "Cannot read the monitoring database"},
		{"/runs/007/", 404, "has no workflow row yet"},
		{"/runs/999/", 404, "There is no run 999 in " + root},
		{"/runs/notes/", 404, `"notes" is not a run`},
		{"/runs/..%2F..%2Fetc/", 404, "is not a run"},
		{"/runs/000/tasks/99", 404, "Run 000 has no task 99."},
		{"/runs/000/tasks/abc", 404, `"abc" is not a task id`},
		{"/runs/000/tasks/-1", 404, "is not a task id"},
		{"/runs/000/tasks?page=zero", 400, `page="zero": give a whole number from 1.`},
		{"/runs/000/tasks?page=999", 200, "6 tasks"}, // past the end: the last page
		{"/nothing/here", 404, "There is no page at /nothing/here."},
	} {
		body := page(t, ts, tc.path, tc.status)
		wantText(t, body, tc.want)
	}
}

func setVersion(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	if _, err := db.Exec("PRAGMA user_version = " + strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
}

func TestNoRuns(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	body := page(t, newTestServer(t, empty), "/", 200)
	wantText(t, body, "No runs in "+empty+": it holds no numbered run folders")

	missing := filepath.Join(t.TempDir(), "runinfo")
	body = page(t, newTestServer(t, missing), "/", 200)
	wantText(t, body, "There is no runinfo folder at "+missing+": no workflow has run here yet.")
	body = page(t, newTestServer(t, missing), "/runs/000/", 404)
	wantText(t, body, "There is no run 000 in "+missing)
}

func TestAssetsEmbedded(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, t.TempDir())
	for _, p := range []string{"/assets/style.css", "/assets/app.js"} {
		status, body := get(t, ts, p)
		if status != 200 || len(body) < 100 {
			t.Errorf("GET %s: status %d, %d bytes", p, status, len(body))
		}
	}
	// Nothing is fetched from elsewhere: the dashboard works offline.
	_, body := get(t, ts, "/")
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body) {
		t.Errorf("page loads something from another host:\n%s", body)
	}
}

// TestFinishedRunCache: a finished run's charts are kept, and computed
// again when its database changes.
func TestFinishedRunCache(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	db := createDB(t, root, "000", true) // the same file, opened again
	execAll(t, db, `UPDATE workflow SET time_completed = `+at("6"))
	ts, s := newTestServerAnd(t, root)
	first := page(t, ts, "/runs/000/", 200)
	wantText(t, first, "took 6.00 s", "analyze 1 0 0 0")
	if _, ok := s.charts.get("000", s.dbs.stamp("000")); !ok {
		t.Errorf("a finished run's charts are not cached")
	}
	if _, ok := s.counts.get("000", s.dbs.stamp("000")); !ok {
		t.Errorf("a finished run's task counts are not cached")
	}
	if again := page(t, ts, "/runs/000/", 200); again != first {
		t.Errorf("a finished run's page changed between two views")
	}
	execAll(t, db, `INSERT INTO task (task_id, run_id, task_func_name, task_status_name, task_memoize, task_time_invoked, task_time_running, task_time_returned)
		VALUES (6, 'run-000', 'late', 'exec_done', '0', `+at("5")+`, `+at("5")+`, `+at("5.75")+`)`)
	wantText(t, page(t, ts, "/runs/000/", 200), "7 tasks", "exec_done 3", "late 1 1 0 1 750 ms 750 ms 750 ms")
}

// TestRunReplaced: a run folder removed and made again (a new run took
// its number) shows the new database, not the one opened before.
func TestRunReplaced(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	ts := newTestServer(t, root)
	wantText(t, page(t, ts, "/runs/000/", 200), "small.star")
	if err := os.RemoveAll(filepath.Join(root, "000")); err != nil {
		t.Fatal(err)
	}
	wantText(t, page(t, ts, "/runs/000/", 404), "There is no run 000")
	makeBigRun(t, root, "000", 100, true)
	wantText(t, page(t, ts, "/runs/000/", 200), "sweep.star", "100 tasks")
}
