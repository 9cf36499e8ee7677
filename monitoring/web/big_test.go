package web

import (
	"regexp"
	"strings"
	"testing"
)

// TestBigRun checks the pages of a 100,000-task run: the timeline is
// drawn per column rather than per try, and the pages stay small.
func TestBigRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: generating a 100,000-task database takes seconds")
	}
	t.Parallel()
	root := t.TempDir()
	const n = 100_000
	makeBigRun(t, root, "000", n, true)
	ts := newTestServer(t, root)

	body := page(t, ts, "/runs/000/", 200)
	wantText(t, body,
		"Run 000 · sweep.star", "took 10m 26s", "100,000 tasks", "exec_done 96,000", "failed 1,000", "dep_fail 2,000", "memo_done 1,000",
		"Timeline · tries per worker", "99,000 tries", "block 0 · node1 · w0", "block 3 · node4 · w31",
		"1,000 tasks failed, and 2,000 more because a dependency did.", "The first 20 are below",
		"task 7 plot failed after 2 failed tries on node1", "ValueError: bad input 7",
		"htex 3 104 RUNNING",
	)
	// Apps: 20,000 tasks each; task_id%100 == 7 fail, and 7%5 == 2 is plot.
	wantText(t, body, "plot 20,000 19,000 1,000")
	if got := strings.Count(body, `<rect class="try`); got != 0 {
		t.Errorf("timeline draws %d tries one by one; want lanes of busy time", got)
	}
	if got := strings.Count(body, `class="lane"`); got != 32 {
		t.Errorf("timeline has %d lanes, want 32 (one per worker)", got)
	}
	if len(body) > 600_000 {
		t.Errorf("run page is %d bytes; it should not grow with the task count", len(body))
	}
	// Paging through the tasks: the last page, and a filter.
	body = page(t, ts, "/runs/000/tasks?page=1000", 200)
	wantText(t, body, "99,901–100,000 of 100,000 tasks", "page 1,000 of 1,000")
	body = page(t, ts, "/runs/000/tasks?state=failed&app=plot&page=2", 200)
	wantText(t, body, "101–200 of 1,000 tasks")
	if ids := regexp.MustCompile(`/runs/000/tasks/(\d+)">`).FindAllStringSubmatch(body, -1); len(ids) != 100 || ids[0][1] != "10007" {
		t.Errorf("failed plot tasks, page 2: %d rows starting at %v, want 100 from task 10007", len(ids), ids[0])
	}
	body = page(t, ts, "/runs/000/tasks/50007", 200)
	wantText(t, body, "Task 50007 · plot failed", "Waits on: task 25003", "Needed by: task 50008 fetch dep_fail task 50009 reduce dep_fail",
		"ValueError: bad input 50007")
}
