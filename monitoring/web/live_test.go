package web

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
)

// TestLiveRun reads a run while its writer adds to it, as the recorder
// does during a run: in WAL mode neither waits for the other, and every
// page is whole.
func TestLiveRun(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	db := createDB(t, root, "000", false)
	execAll(t, db, `INSERT INTO workflow VALUES ('live', 'live.star', NULL, '`+fixtureBegan+`', NULL, 'h', 'u', 'runinfo/000', 0, 0)`)
	ts := newTestServer(t, root)

	// Before any task: the pages say so.
	body := page(t, ts, "/runs/000/", 200)
	wantText(t, body, "0 tasks", "No try has started running yet.", "No tasks yet.", "No task failed.")
	body = page(t, ts, "/runs/000/tasks", 200)
	wantText(t, body, "No task matches.")

	const batches, per = 40, 50
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := range batches {
			var stmts []string
			for i := b * per; i < (b+1)*per; i++ {
				stmts = append(stmts,
					fmt.Sprintf(`INSERT INTO task (task_id, run_id, task_func_name, task_status_name, task_memoize, task_time_invoked, task_time_running, task_time_returned, task_key)
						VALUES (%d, 'live', 'f', 'exec_done', '0', %s, %s, %s, %d)`, i, at(fmt.Sprint(i)), at(fmt.Sprint(i)), at(fmt.Sprint(i)+"+0.5"), i),
					fmt.Sprintf(`INSERT INTO try (try_id, task_id, run_id, task_executor, worker_id, task_try_time_running, task_try_time_returned, task_try_status_name, try_key)
						VALUES (0, %d, 'live', 'threads', '%d', %s, %s, 'exec_done', %d)`, i, i%4, at(fmt.Sprint(i)), at(fmt.Sprint(i)+"+0.5"), monitoring.TryKey(int64(i), 0)))
			}
			execAll(t, db, stmts...)
		}
	}()
	for range 20 {
		for _, p := range []string{"/", "/runs/000/", "/runs/000/tasks?page=3", "/runs/000/tasks/10"} {
			code, body := get(t, ts, p)
			if code != 200 && !(code == 404 && strings.Contains(body, "has no task 10")) {
				t.Fatalf("GET %s during writes: %d\n%s", p, code, body)
			}
			if !strings.HasSuffix(strings.TrimSpace(body), "</html>") || strings.Contains(body, "Could not read") {
				t.Fatalf("GET %s during writes: broken page\n%s", p, tail(body))
			}
		}
	}
	wg.Wait()
	body = page(t, ts, "/runs/000/", 200)
	wantText(t, body, "2,000 tasks", "exec_done 2,000", "2,000 tries", "threads · w0")
}
