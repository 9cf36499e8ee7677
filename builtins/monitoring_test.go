package builtins_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/interp"
	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/monitoring/monitoringtest"
)

// knownTasks: a success, a python app failing on every try, its dependent,
// a bash app failing once then succeeding, and a python app busy long
// enough to be sampled. Task ids follow the call order.
const knownTasks = `
parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], retries=1,
    monitoring=MonitoringHub(hub_address="127.0.0.1", workflow_name="known",
                             resource_monitoring_interval=0.05)))

@python_app
def double(x):
    return 2 * x

@python_app
def boom():
    fail("boom")

@bash_app
def flaky(marker):
    return "sleep 0.2; if [ -e %s ]; then exit 0; fi; touch %s; exit 3" % (marker, marker)

@python_app
def spin(n):
    t = 0
    for i in range(n):
        t += i
    return t

a = double(1)
b = boom()
c = double(b)
d = flaky(test.tmpdir + "/marker")
e = spin(2000000)
assert.eq(a.result(), 2)
assert.eq(d.result(), 0)
assert.eq(e.result(), 1999999000000)
assert.true(b.exception() != None)
assert.true(c.exception() != None)
`

// runScript runs src as a script in a fresh session and returns its run
// folder.
func runScript(t *testing.T, src string) string {
	t.Helper()
	env := newScriptEnv(t)
	file := filepath.Join(env.tmpdir, "known.star")
	session := builtins.NewSession(t.Context(), builtins.Options{
		RunDirRoot: env.runRoot, Argv: []string{file}, Stdout: env.stdout, Stderr: env.stdout,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: env.log}),
	})
	env.session = session
	predeclared := interp.Predeclared([]string{file})
	predeclared["assert"] = env.assertModule()
	predeclared["test"] = env.testModule()
	for k, v := range builtins.MonitoringBuiltins() {
		predeclared[k] = v
	}
	f, err := interp.Parse(file, []byte(src), interp.FileOptions(), interp.Modules())
	if err != nil {
		t.Fatal(err)
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{Name: "main", Print: session.Print}
	session.Attach(thread)
	_, execErr := prog.Init(thread, predeclared)
	if _, err := session.Finish(); err != nil {
		t.Errorf("finish: %v", err)
	}
	if execErr != nil {
		t.Fatalf("script: %v\nlog:\n%s", execErr, env.log.String())
	}
	dirs := session.RunDirs()
	if len(dirs) != 1 {
		t.Fatalf("run folders: %v", dirs)
	}
	return dirs[0]
}

func TestMonitoringDatabaseOfKnownRun(t *testing.T) {
	t.Parallel()
	dir := runScript(t, knownTasks)
	ctx := context.Background()
	db, err := monitoring.OpenReadOnly(ctx, filepath.Join(dir, monitoring.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	got := strings.Join(monitoringtest.Column(t, db, `SELECT task_id || ' ' || task_func_name || ' ' || task_status_name || ' ' ||
		task_fail_count || ' ' || coalesce(task_depends, '-') FROM task ORDER BY task_id`), "\n")
	want := strings.Join([]string{
		"0 double exec_done 0 -",
		"1 boom failed 2 -",
		"2 double dep_fail 0 1",
		"3 flaky exec_done 1 -",
		"4 spin exec_done 0 -",
	}, "\n")
	if got != want {
		t.Errorf("tasks:\n%s\nwant:\n%s", got, want)
	}
	tries := monitoringtest.Column(t, db, `SELECT task_id || '.' || try_id || ' ' || task_try_status_name || ' ' || task_executor
		|| ' ' || (hostname IS NOT NULL) FROM try ORDER BY task_id, try_id`)
	wantTries := []string{"0.0 exec_done threads 1", "1.0 failed threads 1", "1.1 failed threads 1",
		"3.0 failed threads 1", "3.1 exec_done threads 1", "4.0 exec_done threads 1"}
	if !reflect.DeepEqual(tries, wantTries) {
		t.Errorf("tries = %q, want %q", tries, wantTries)
	}
	if h := monitoringtest.Column(t, db, `SELECT task_fail_history FROM try WHERE task_id = 3 AND try_id = 0`); len(h) != 1 || !strings.Contains(h[0], "exit code 3") {
		t.Errorf("failed bash try's error = %q, want the exit code", h)
	}
	if w := monitoringtest.Column(t, db, `SELECT workflow_name || ' ' || tasks_completed_count || ' ' || tasks_failed_count ||
		' ' || (time_completed IS NOT NULL) FROM workflow`); !reflect.DeepEqual(w, []string{"known 3 2 1"}) {
		t.Errorf("workflow = %q", w)
	}

	// The bash app: a last, exact row per try when its shell exits.
	exited := monitoringtest.Column(t, db, `SELECT try_id FROM resource WHERE task_id = 3 AND psutil_process_status = 'exited'
		AND psutil_process_time_user IS NOT NULL ORDER BY try_id`)
	if !reflect.DeepEqual(exited, []string{"0", "1"}) {
		t.Errorf("bash tries' final resource rows: %q, want one for each try", exited)
	}
	// sleep 0.2 outlasts several 0.05 s samples of the group.
	if n := monitoringtest.Column(t, db, `SELECT count(*) FROM resource WHERE task_id = 3 AND psutil_process_status != 'exited'`); n[0] == "0" {
		t.Error("no periodic sample of the bash app's process group")
	}
	// The python app runs in this process: its samples are this process's.
	pids := monitoringtest.Column(t, db, `SELECT DISTINCT psutil_process_pid FROM resource WHERE task_id = 4`)
	if want := []string{strconv.Itoa(os.Getpid())}; !reflect.DeepEqual(pids, want) {
		t.Errorf("python app sampled pids = %q, want %q (this process)", pids, want)
	}
}

// The Parsl tutorial's query, run unchanged by the real sqlite3 command.
func TestMonitoringTutorialQueryWithSqlite3(t *testing.T) {
	t.Parallel()
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 command not found (Debian: apt-get install sqlite3); the tutorial query is checked with it")
	}
	dir := runScript(t, knownTasks)
	out, err := exec.Command(sqlite3, filepath.Join(dir, monitoring.FileName),
		"SELECT task_id, task_func_name, task_status_name, task_time_submitted, task_time_returned FROM task").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 5 {
		t.Fatalf("sqlite3 printed %d rows, want one per task (5):\n%s", len(lines), out)
	}
	for i, l := range lines {
		f := strings.Split(l, "|")
		if len(f) != 5 || f[0] != strconv.Itoa(i) || f[3] == "" || f[4] == "" {
			t.Errorf("row %d = %q, want task %d with both times", i, l, i)
		}
	}
}

func TestMonitoringHubBadInput(t *testing.T) {
	t.Parallel()
	hub := builtins.MonitoringBuiltins()["MonitoringHub"]
	config := interp.Predeclared(nil)["Config"]
	thread := &starlark.Thread{Name: "test"}
	kw := func(k string, v starlark.Value) []starlark.Tuple { return []starlark.Tuple{{starlark.String(k), v}} }
	for _, tc := range []struct {
		fn     starlark.Value
		kwargs []starlark.Tuple
		want   string
	}{
		{hub, kw("logging_endpoint", starlark.String("postgresql://db/x")), `MonitoringHub: for parameter logging_endpoint: got "postgresql://db/x", want sqlite:///PATH`},
		{hub, kw("resource_monitoring_interval", starlark.Float(-1)), "MonitoringHub: for parameter resource_monitoring_interval: got -1.0, want seconds"},
		{hub, kw("resource_monitoring_interval", starlark.String("30")), `MonitoringHub: for parameter resource_monitoring_interval: got "30", want seconds`},
		{hub, kw("workflow_name", starlark.MakeInt(3)), "MonitoringHub: for parameter workflow_name: got int, want a string or None"},
		{hub, kw("hub_adress", starlark.String("x")), "MonitoringHub: unexpected keyword argument"},
		{config, kw("monitoring", starlark.True), "Config: for parameter monitoring: got bool, want MonitoringHub(...) or None"},
	} {
		_, err := starlark.Call(thread, tc.fn, nil, tc.kwargs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s(%v): error %v, want %q", tc.fn, tc.kwargs, err, tc.want)
		}
	}
	// Parsl's defaults, and a sqlite:/// endpoint read as a path.
	v, err := starlark.Call(thread, hub, nil, kw("logging_endpoint", starlark.String("sqlite:////tmp/m.db")))
	if err != nil {
		t.Fatal(err)
	}
	h := v.(starlark.HasAttrs)
	for name, want := range map[string]string{
		"hub_address": `"127.0.0.1"`, "resource_monitoring_enabled": "True", "resource_monitoring_interval": "30.0",
		"monitoring_debug": "False", "logging_endpoint": `"sqlite:////tmp/m.db"`, "workflow_name": "None",
	} {
		if got, _ := h.Attr(name); got == nil || got.String() != want {
			t.Errorf("MonitoringHub().%s = %v, want %s", name, got, want)
		}
	}
}
