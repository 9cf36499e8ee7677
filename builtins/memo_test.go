package builtins_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/interp"
)

// The tests here run scripts in sessions whose memo store is a real Badger
// store in a temporary folder, as `starflow run` does, several sessions in
// a row over one store standing for several runs of one project. Apps
// count their executions with count(name), and gate(name) holds an app
// until the test opens the gate.

// memoEnv is a project folder: its memo store and the counters and gates
// its scripts use.
type memoEnv struct {
	t   *testing.T
	dir string

	mu     sync.Mutex
	counts map[string]int
	gates  map[string]chan struct{}
}

func newMemoEnv(t *testing.T) *memoEnv {
	return &memoEnv{t: t, dir: t.TempDir(), counts: map[string]int{}, gates: map[string]chan struct{}{}}
}

func (e *memoEnv) count(name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[name]
}

func (e *memoEnv) gate(name string) chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.gates[name]
	if !ok {
		g = make(chan struct{})
		e.gates[name] = g
		e.t.Cleanup(func() {
			select {
			case <-g:
			default:
				close(g)
			}
		})
	}
	return g
}

func (e *memoEnv) open(name string) { close(e.gate(name)) }

// hooks are the script's count(name), which counts an execution,
// executed(name), which returns the count, gate(name), which counts too
// and then waits for the gate to open, fails(fn), which returns fn's error
// or None, and rewrite(path, content), which replaces a file's content and
// puts its modification time back.
func (e *memoEnv) hooks() starlark.StringDict {
	incr := func(name string) int {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.counts[name]++
		return e.counts[name]
	}
	return starlark.StringDict{
		"count": starlark.NewBuiltin("count", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
				return nil, err
			}
			return starlark.MakeInt(incr(name)), nil
		}),
		"executed": starlark.NewBuiltin("executed", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
				return nil, err
			}
			return starlark.MakeInt(e.count(name)), nil
		}),
		"fails": starlark.NewBuiltin("fails", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var fn starlark.Callable
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &fn); err != nil {
				return nil, err
			}
			if _, err := starlark.Call(thread, fn, nil, nil); err != nil {
				return starlark.String(err.Error()), nil
			}
			return starlark.None, nil
		}),
		"rewrite": starlark.NewBuiltin("rewrite", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var path, content string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &path, &content); err != nil {
				return nil, err
			}
			return starlark.None, rewriteKeepingTimes(path, content)
		}),
		"gate": starlark.NewBuiltin("gate", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &name); err != nil {
				return nil, err
			}
			incr(name)
			<-e.gate(name)
			return starlark.None, nil
		}),
	}
}

// codeDigest stands for interp's code digests, which these tests do not
// exercise (cmd/starflow's memo_run_test.go does, by editing scripts): a
// function is known by its name and position, which are the same in
// every run of one script.
func codeDigest(fn *starlark.Function) ([32]byte, bool) {
	return sha256.Sum256([]byte(fn.Position().String() + " " + fn.Name())), true
}

// memoRun is one finished run of a script.
type memoRun struct {
	err     error // the script's
	stdout  string
	stderr  string
	kernels []*dfk.Kernel
}

// executed is the number of tasks that ran rather than came from the memo
// table, over the run's kernels.
func (r memoRun) executed() int64 {
	var n int64
	for _, k := range r.kernels {
		c := k.Counts()
		n += c.Done + c.Failed - c.MemoHits
	}
	return n
}

func (r memoRun) hits() int64 {
	var n int64
	for _, k := range r.kernels {
		n += k.Counts().MemoHits
	}
	return n
}

// runOpts changes how a run is made.
type runOpts struct {
	// during is called while the script runs, with its session; the
	// script's end waits for it.
	during func(*builtins.Session)
}

// run runs src to the end in a new session over the env's store.
func (e *memoEnv) run(src string, o runOpts) memoRun {
	e.t.Helper()
	var stdout, stderr syncBuffer
	const file = "memo.star"
	session := builtins.NewSession(e.t.Context(), builtins.Options{
		RunDirRoot: filepath.Join(e.dir, "runinfo"),
		Workers:    4,
		Argv:       []string{file},
		Stdout:     &stdout,
		Stderr:     &stderr,
		Logger:     hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &stderr}),
		MemoDir:    filepath.Join(e.dir, ".starflow", "memo"),
		CodeDigest: codeDigest,
	})
	predeclared := interp.Predeclared([]string{file})
	for k, v := range e.hooks() {
		predeclared[k] = v
	}
	f, err := interp.Parse(file, []byte(src), interp.FileOptions(), interp.Modules())
	if err != nil {
		e.t.Fatal(err)
	}
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		e.t.Fatal(err)
	}
	var wg sync.WaitGroup
	if o.during != nil {
		wg.Go(func() { o.during(session) })
	}
	thread := &starlark.Thread{Name: "main", Print: session.Print}
	session.Attach(thread)
	_, err = prog.Init(thread, predeclared)
	wg.Wait()
	kernels, ferr := session.Finish()
	if ferr != nil {
		e.t.Errorf("finishing the session: %v", ferr)
	}
	return memoRun{err: err, stdout: stdout.String(), stderr: stderr.String(), kernels: kernels}
}

// ok fails the test unless the script ran to its end.
func (r memoRun) ok(t *testing.T) memoRun {
	t.Helper()
	if r.err != nil {
		var ev *starlark.EvalError
		if errors.As(r.err, &ev) {
			t.Fatalf("script failed: %s\nlog:\n%s", ev.Backtrace(), r.stderr)
		}
		t.Fatalf("script failed: %v\nlog:\n%s", r.err, r.stderr)
	}
	return r
}

// waitCounts waits, up to a generous bound, until the session's kernel
// shows want running and following tasks.
func waitCounts(t *testing.T, s *builtins.Session, running, waiting int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if ks := s.Kernels(); len(ks) > 0 {
			c := ks[len(ks)-1].Counts()
			if c.Running == running && c.Waiting == waiting {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("kernel counts %+v, want %d running and %d waiting", c, running, waiting)
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// Identical calls in flight at the same time execute once: the second
// waits for the first and takes its result.
func TestMemoIdenticalInFlight(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	r := e.run(`
@python_app(cache = True)
def slow(x):
    gate("slow")
    return x * 10

a, b, c = slow(1), slow(1), slow(2)
print(a.result(), b.result(), c.result())
`, runOpts{during: func(s *builtins.Session) {
		// slow(1) and slow(2) run, the second slow(1) waits for the first.
		waitCounts(t, s, 2, 1)
		// A running task enters its body a moment after the kernel counts
		// it as running.
		deadline := time.Now().Add(time.Minute)
		for e.count("slow") < 2 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := e.count("slow"); n != 2 {
			t.Errorf("%d executions entered, want 2", n)
		}
		e.open("slow")
	}}).ok(t)
	if r.stdout != "10 10 20\n" {
		t.Errorf("printed %q", r.stdout)
	}
	if n := e.count("slow"); n != 2 {
		t.Errorf("slow executed %d times, want 2 (once per distinct argument)", n)
	}
	if r.executed() != 2 || r.hits() != 1 {
		t.Errorf("%d executed, %d hits; want 2 and 1", r.executed(), r.hits())
	}
}

// keyScript calls one app with arguments that are equal, or that only
// look alike, and prints how many times it has run after each group.
const keyScript = `
@python_app(cache = True, ignore_for_cache = ["note"])
def once(x = None, y = 0, note = ""):
    count("once")
    return [x, y]

def wait(*futures):
    for f in futures:
        f.result()

# The same call three times in a row: once.
[once(1).result() for _ in range(3)]
print("same", executed("once"))

# Equal arguments, built differently: once per group.
d1 = {"a": 1, "b": [1, 2]}
d2 = {}
d2["b"] = [1, 2]
d2["a"] = 1
wait(once(d1), once(d2))
wait(once(set([1, 2, 3])), once(set([3, 2, 1])))
wait(once(x = 5, y = 6), once(y = 6, x = 5))
wait(once(7, note = "first"), once(7, note = "second"))
print("equal", executed("once"))

# Arguments that look alike, some even ==, but differ in type or value:
# each its own task.
wait(once((1, 2)), once([1, 2]), once(2), once(2.0), once("2"), once(True), once(1 << 70), once(b"2"))
print("distinct", executed("once"))
`

// TestMemoKeys: equal arguments make one key whatever their construction,
// and values of different types never share one.
func TestMemoKeys(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	r := e.run(keyScript, runOpts{}).ok(t)
	if want := "same 1\nequal 5\ndistinct 13\n"; r.stdout != want {
		t.Errorf("printed:\n%swant:\n%s", r.stdout, want)
	}
	// A second run finds every result in the store.
	r = e.run(keyScript, runOpts{}).ok(t)
	if r.executed() != 0 || e.count("once") != 13 {
		t.Errorf("second run executed %d tasks (once ran %d times in all), want none", r.executed(), e.count("once"))
	}
}

// rewriteKeepingTimes replaces the file's content and restores its
// modification time: an edit that size and mtime alone cannot see.
func rewriteKeepingTimes(path, content string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Chtimes(path, fi.ModTime(), fi.ModTime())
}

// A failed task is not memoized: the same call runs again, and its
// success is.
func TestMemoFailuresNotMemoized(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	const src = `
@python_app(cache = True)
def flaky(x):
    if count("flaky") == 1:
        fail("first try fails")
    return x

first = flaky(1)
print(first.exception() != None, flaky(1).result(), flaky(1).result(), executed("flaky"))
`
	r := e.run(src, runOpts{}).ok(t)
	if r.stdout != "True 1 1 2\n" {
		t.Errorf("printed %q, want the failure, then one execution and one hit", r.stdout)
	}
	r = e.run(src, runOpts{}).ok(t)
	if r.stdout != "False 1 1 2\n" || r.executed() != 0 {
		t.Errorf("second run printed %q and executed %d tasks, want the stored success and none", r.stdout, r.executed())
	}
}

// A result in the memo table is shared by every task that hits it: what a
// caller does to the value its result() returned (refused, if results are
// frozen; done to its own copy, if they are thawed) never reaches the
// table, in this run or the next.
func TestMemoHitsUnchangedByCallers(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	const src = `
@python_app(cache = True)
def make():
    return {"k": [1], "s": set([1])}

a = make().result()
fails(lambda: a["k"].append(2))
fails(lambda: a["s"].add(2))
fails(lambda: a.update(x = 1))
b = make().result()
print(b == {"k": [1], "s": set([1])})
`
	for run := range 2 {
		r := e.run(src, runOpts{}).ok(t)
		if r.stdout != "True\n" {
			t.Errorf("run %d: printed %q, want the stored value unchanged", run, r.stdout)
		}
		if want := int64(1 - run); r.executed() != want {
			t.Errorf("run %d: %d tasks executed, want %d", run, r.executed(), want)
		}
	}
}

// A second configuration loaded in the same run (parsl.clear, then
// parsl.load) finds what the first made durable; with checkpoint_mode
// None it does not, as in Parsl, where each DataFlowKernel has its own
// table.
func TestMemoSecondKernel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		config string
		want   string
	}{
		{"Config()", "2\n"},
		{"Config(checkpoint_mode = None)", "3\n"},
	} {
		t.Run(tc.config, func(t *testing.T) {
			t.Parallel()
			e := newMemoEnv(t)
			r := e.run(strings.ReplaceAll(`
@python_app(cache = True)
def work(x):
    count("work")
    return x

parsl.load(CONFIG)
work(1).result()
parsl.clear()
parsl.load(CONFIG)
work(1).result()
work(2).result()
print(executed("work"))
`, "CONFIG", tc.config), runOpts{}).ok(t)
			if r.stdout != tc.want {
				t.Errorf("work executed %q times, want %q", r.stdout, tc.want)
			}
		})
	}
}

// Many tasks over few keys, submitted at once: each key runs once, every
// other task waits for it or hits its result.
func TestMemoManyIdentical(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	r := e.run(`
@python_app(cache = True)
def square(x):
    count("square")
    return x * x

futures = [square(i % 20) for i in range(400)]
total = 0
for f in futures:
    total += f.result()
print(total, executed("square"))
`, runOpts{}).ok(t)
	if r.stdout != "49400 20\n" {
		t.Errorf("printed %q, want the sum 49400 and 20 executions", r.stdout)
	}
	if r.executed() != 20 || r.hits() != 380 {
		t.Errorf("%d executed, %d hits; want 20 and 380", r.executed(), r.hits())
	}
}

// Input files key on their content, and a change within a run is seen
// even when size and modification time are put back.
func TestMemoInputFileInRun(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	data := filepath.Join(e.dir, "data.txt")
	if err := os.WriteFile(data, []byte("aaa"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("DATA", data, "LATER", filepath.Join(e.dir, "later.txt")).Replace(`
@python_app(cache = True)
def reader(inputs = []):
    count("reader")
    return 1

def read(path):
    reader(inputs = [File(path)]).result()
    return executed("reader")

print(read("DATA"), read("DATA"))
rewrite("DATA", "bbb")
print(read("DATA"), read("DATA"))
print(read("LATER"), read("LATER"))
`)
	r := e.run(src, runOpts{}).ok(t)
	if r.stdout != "1 1\n2 2\n3 3\n" {
		t.Errorf("reader executions after each call:\n%s\nwant a new one after each edit only", r.stdout)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "later.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A second run: the file that now exists has new content; the other
	// is as the first run left it (and its rewrite changes nothing).
	e.run(src, runOpts{}).ok(t)
	if e.count("reader") != 4 {
		t.Errorf("reader executed %d times over both runs, want 4", e.count("reader"))
	}
}

// How a task runs is not what it computes: a call that differs only in
// walltime= or parsl_resource_specification= takes the stored result,
// unless the function receives the argument itself and so may compute
// with it.
func TestMemoExecutionOptionsNotKeyed(t *testing.T) {
	t.Parallel()
	e := newMemoEnv(t)
	r := e.run(`
@python_app(cache = True)
def work(x):
    count("work")
    return x

@python_app(cache = True)
def timed(x, walltime = 60):
    count("timed")
    return walltime

work(1).result()
work(1, walltime = 30).result()
work(1, parsl_resource_specification = {"cores": 4}).result()
print(executed("work"))
print(timed(1).result(), timed(1, walltime = 30).result(), timed(1, walltime = 30).result(), executed("timed"))
`, runOpts{}).ok(t)
	if want := "1\n60 30 30 2\n"; r.stdout != want {
		t.Errorf("printed:\n%swant:\n%s", r.stdout, want)
	}
}
