package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser the dashboard tests drive: Debian's chromium
// package (CI installs it), or $STARFLOW_CHROMIUM.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STARFLOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: install Debian's chromium package (apt-get install -y chromium) to run the dashboard's browser tests")
	return ""
}

// browser starts a headless Chromium for the test and returns a tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	// A bound on the whole test, so a hung browser fails it rather than
	// the package's timeout.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// TestBrowser drives the dashboard in a real browser the way a user
// would: from the runs list to a run, from its failure list to the failed
// task, through the filters (whose menus submit by script) and the
// timeline's bars, and to a run without a database.
func TestBrowser(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	makeSmallRun(t, root, "000")
	if err := os.MkdirAll(filepath.Join(root, "001"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, root)
	ctx := browser(t)
	// The screenshots go to the test's temp dir, or where
	// $STARFLOW_SCREENSHOTS says, to look at after the test.
	shots := t.TempDir()
	if dir := os.Getenv("STARFLOW_SCREENSHOTS"); dir != "" {
		shots = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	visible := func(sel string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			t.Fatalf("waiting for %s: %v", sel, err)
		}
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	want := func(sel string, wants ...string) {
		t.Helper()
		got := visible(sel)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s shows %q, want it to contain %q", sel, got, w)
			}
		}
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// click follows a link and waits for the page it leads to.
	click := func(sel string) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	location := func() string {
		t.Helper()
		u, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(u, ts.URL)
	}

	do("open the runs list", chromedp.Navigate(ts.URL+"/"))
	want("table.runs", "000", "small.star", "exec_done 2", "failed 1", "001", "No monitoring database")
	shot("runs.png")

	click(`a[href="/runs/000/"]`)
	want("h1", "Run 000", "small.star")
	want("#timeline", "Timeline", "tries per worker", "6 tries")
	want("#states", "Tasks by state over time", "In flight", "Finished")
	want("#apps", "simulate", "2.25 s")
	want("#failures", "task 2", smallRunFailure, "runinfo/000/task_logs/2.err")
	shot("run.png")

	click("#failures a.task")
	if got := location(); got != "/runs/000/tasks/2" {
		t.Errorf("the failure links to %s, want /runs/000/tasks/2", got)
	}
	want("h1", "Task 2", "simulate", "failed")
	want("#error", smallRunFailure)
	want("#tries", "2.50 s", smallRunFailure)
	want("#deps", "task 0", "task 3")
	want("#resources", "resident memory, peak 200.0 MiB")
	shot("task.png")

	// A dependency is a link to its task.
	click(`#deps a[href="/runs/000/tasks/3"]`)
	want("h1", "Task 3", "plot", "dep_fail")

	// The task table: the state menu applies itself (app.js).
	do("open the task table", chromedp.Navigate(ts.URL+"/runs/000/tasks"))
	want(".pager", "1–6 of 6 tasks")
	// What a user's pick does: set the value, fire "change".
	pick := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { const s = document.querySelector('select[name="state"]');
			s.value = "failed"; return s.dispatchEvent(new Event("change")); })()`)(ctx, tg)
		return chromedp.Void{}, err
	}
	if _, err := chromedp.RunResponse(ctx, pick); err != nil {
		t.Fatalf("choose state failed: %v", err)
	}
	want(".pager", "1–1 of 1 task")
	want("table.tasks", "simulate", smallRunFailure)
	shot("tasks.png")
	do("search", chromedp.Navigate(ts.URL+"/runs/000/tasks"),
		chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "flaky"))
	click(`button[type="submit"]`)
	want("table.tasks", "OSError: flaky disk")

	// A failed try on the timeline leads to its task as well.
	do("open the run", chromedp.Navigate(ts.URL+"/runs/000/"))
	click("#timeline rect.try.bad")
	if got := location(); got != "/runs/000/tasks/1" && got != "/runs/000/tasks/2" {
		t.Errorf("a failed try on the timeline links to %s, want task 1 or 2", got)
	}
	want("#tries", "failed")

	do("open a run without a database", chromedp.Navigate(ts.URL+"/runs/001/"))
	want(".problem", "No monitoring database", "ran without monitoring")
	shot("nodb.png")
	t.Logf("screenshots in %s", shots)
}
