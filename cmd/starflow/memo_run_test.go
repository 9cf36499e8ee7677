package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/memo"
)

// These tests run `starflow run` as child processes against a real memo
// store in a temporary project, kill them with SIGKILL where a node would
// die, and count what ran through side-effect files that bash apps write
// and through the run log (--log-level debug records every task's final
// state: exec_done when it ran, memo_done when its result came from the
// store).

// runLimit bounds a whole `starflow run` of a test, so that a hung run
// fails the test instead of stalling it. It is not a performance
// threshold: these runs take a few seconds at most.
const runLimit = 3 * time.Minute

// memoProject is a folder holding scripts, their runs and their memo store
// (.starflow/memo: the folder has no starflow.toml, so it is its own root).
type memoProject struct {
	t   *testing.T
	dir string
	bin string
}

func newMemoProject(t *testing.T) *memoProject {
	t.Helper()
	return &memoProject{t: t, dir: t.TempDir(), bin: starflowBinary(t)}
}

func (p *memoProject) path(name string) string { return filepath.Join(p.dir, name) }

func (p *memoProject) write(name, content string) {
	p.t.Helper()
	if err := os.WriteFile(p.path(name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *memoProject) read(name string) string {
	p.t.Helper()
	b, err := os.ReadFile(p.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return string(b)
}

// take returns a side-effect file's lines and removes it, so that the next
// run starts a new one.
func (p *memoProject) take(name string) []string {
	p.t.Helper()
	s := p.read(name)
	if err := os.Remove(p.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		p.t.Fatal(err)
	}
	return strings.Fields(s)
}

// outcome is how a finished run went.
type outcome struct {
	code           int
	stdout, stderr string
	log            string // its runinfo/NNN/starflow.log
}

// run runs `starflow run --log-level debug ARGS...` to completion.
func (p *memoProject) run(args ...string) outcome {
	p.t.Helper()
	c := p.start(args...)
	select {
	case <-c.exited:
	case <-time.After(runLimit):
		p.t.Fatalf("starflow run %v still running after %v\nstderr:\n%s", args, runLimit, c.stderr())
	}
	return c.outcome()
}

// child is a `starflow run` in the background.
type child struct {
	p       *memoProject
	cmd     *exec.Cmd
	name    string // of its stdout and stderr files
	exited  chan struct{}
	waitErr error
}

// start starts `starflow run --log-level debug ARGS...` in the project,
// in a session of its own, which its bash apps share: kill finds them
// there. Its output goes to files: a pipe would keep Wait waiting for any
// bash app left behind by a kill.
func (p *memoProject) start(args ...string) *child {
	p.t.Helper()
	runs, _ := filepath.Glob(p.path("out.*.stdout"))
	c := &child{p: p, name: fmt.Sprintf("out.%03d", len(runs)), exited: make(chan struct{})}
	c.cmd = exec.Command(p.bin, append([]string{"run", "--no-progress", "--log-level", "debug"}, args...)...)
	c.cmd.Dir = p.dir
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	c.cmd.Stdout = createFile(p.t, p.path(c.name+".stdout"))
	c.cmd.Stderr = createFile(p.t, p.path(c.name+".stderr"))
	if err := c.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	p.t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		killSession(p.t, c.cmd.Process.Pid)
	})
	return c
}

func (c *child) stderr() string { return c.p.read(c.name + ".stderr") }

func (c *child) outcome() outcome {
	<-c.exited
	o := outcome{stdout: c.p.read(c.name + ".stdout"), stderr: c.stderr()}
	var ee *exec.ExitError
	switch {
	case errors.As(c.waitErr, &ee):
		o.code = ee.ExitCode()
	case c.waitErr != nil:
		c.p.t.Fatalf("starflow: %v", c.waitErr)
	}
	if logs, _ := filepath.Glob(c.p.path("runinfo/*/starflow.log")); len(logs) > 0 {
		slices.Sort(logs)
		o.log = c.p.read(strings.TrimPrefix(logs[len(logs)-1], c.p.dir+"/"))
	}
	return o
}

// kill sends SIGKILL, as a dying node would, and waits for the exit. Then
// it kills the bash apps the dead starflow left running (each leads a
// process group of its own, but they stay in its session), so that none
// of them writes to the side-effect files of the next run; that is the
// node's death too.
func (c *child) kill() {
	c.p.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.p.t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(hangLimit):
		c.p.t.Fatalf("starflow still running %v after SIGKILL", hangLimit)
	}
	killSession(c.p.t, c.cmd.Process.Pid)
}

// killSession kills every process left in session sid.
func killSession(t *testing.T, sid int) {
	t.Helper()
	deadline := time.Now().Add(hangLimit)
	for {
		left := sessionMembers(t, sid)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v of a killed run survive SIGKILL", left)
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sessionMembers lists the live processes of session sid; a zombie
// waiting for its parent to reap it is dead.
func sessionMembers(t *testing.T, sid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// After the command name, in parentheses: state, ppid, pgrp,
		// session.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 3 && f[0] != "Z" && f[3] == strconv.Itoa(sid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitFor polls until cond holds, failing the test if the child exits
// first or the wait exceeds runLimit.
func (c *child) waitFor(what string, cond func() bool) {
	c.p.t.Helper()
	deadline := time.Now().Add(runLimit)
	for !cond() {
		select {
		case <-c.exited:
			o := c.outcome()
			c.p.t.Fatalf("starflow exited (%d) while the test waited for %s\nstdout:\n%s\nstderr:\n%s", o.code, what, o.stdout, o.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.p.t.Fatalf("no %s after %v\nstderr:\n%s", what, runLimit, c.stderr())
		}
	}
}

// ok checks that the run exited 0 and returns it.
func (o outcome) ok(t *testing.T) outcome {
	t.Helper()
	if o.code != 0 {
		t.Fatalf("starflow exited %d, want 0\nstdout:\n%s\nstderr:\n%s", o.code, o.stdout, o.stderr)
	}
	return o
}

var taskState = regexp.MustCompile(`task state: task_id=\d+ app=(\S+) state=(exec_done|memo_done|failed)`)

// states counts the final states of the run's tasks by app, as
// "app state" (say "work exec_done").
func (o outcome) states() map[string]int {
	n := map[string]int{}
	for _, m := range taskState.FindAllStringSubmatch(o.log, -1) {
		n[m[1]+" "+m[2]]++
	}
	return n
}

// executed counts the tasks of app that ran (were not memo hits).
func (o outcome) executed(app string) int { return o.states()[app+" exec_done"] }

// editScript has an app a, its dependent b and an unrelated app c.
const editScript = `SCALE = 2

def helper(x):
    return x + 1

@python_app(cache = True)
def a(x):
    return helper(x) * SCALE

@bash_app(cache = True)
def b(v):
    return "echo b %s >> runs.log" % v

@bash_app(cache = True)
def c(x):
    return "echo c %s >> runs.log" % x

fa = a(1)
print(fa.result(), b(fa).result(), c(1).result())
`

// TestMemoCodeEdits edits the script between runs: what runs again is the
// app whose code (its def, or a def or constant it reaches) changed, and
// the dependents whose arguments changed with it.
func TestMemoCodeEdits(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	src := editScript
	steps := []struct {
		name     string
		old, new string // the edit, applied to the previous step's script
		a, b, c  int    // executions
		stdout   string
	}{
		{name: "first run", a: 1, b: 1, c: 1, stdout: "4 0 0\n"},
		{name: "no change", stdout: "4 0 0\n"},
		{name: "code outside the apps", old: "fa = a(1)\n", new: "# the sweep\nfa = a(1)\nprint(\"hello\")\n", stdout: "hello\n4 0 0\n"},
		{name: "a's body", old: "helper(x) * SCALE", new: "helper(x) * SCALE + 1", a: 1, b: 1, stdout: "hello\n5 0 0\n"},
		// b's argument is the same value as before: b need not run.
		{name: "a's body, same result", old: "def a(x):\n", new: "def a(x):\n    # doubled\n", a: 1, stdout: "hello\n5 0 0\n"},
		{name: "a helper a calls", old: "return x + 1", new: "return x + 2", a: 1, b: 1, stdout: "hello\n7 0 0\n"},
		{name: "a constant a reads", old: "SCALE = 2", new: "SCALE = 3", a: 1, b: 1, stdout: "hello\n10 0 0\n"},
		{name: "c's body", old: `"echo c %s >> runs.log" % x`, new: `"echo c %s >> runs.log; true" % x`, c: 1, stdout: "hello\n10 0 0\n"},
	}
	for _, s := range steps {
		if s.old != "" {
			if !strings.Contains(src, s.old) {
				t.Fatalf("%s: script has no %q", s.name, s.old)
			}
			src = strings.Replace(src, s.old, s.new, 1)
		}
		p.write("edit.star", src)
		o := p.run("edit.star").ok(t)
		side := strings.Join(p.take("runs.log"), " ")
		got := [3]int{o.executed("a"), o.executed("b"), o.executed("c")}
		if want := [3]int{s.a, s.b, s.c}; got != want {
			t.Errorf("%s: executed a, b, c %v times, want %v", s.name, got, want)
		}
		if n := strings.Count(side, "b ") + strings.Count(side, "c "); n != s.b+s.c {
			t.Errorf("%s: bash apps wrote %q, want %d lines", s.name, side, s.b+s.c)
		}
		if o.stdout != s.stdout {
			t.Errorf("%s: printed %q, want %q", s.name, o.stdout, s.stdout)
		}
	}
}

// TestMemoInputFileEdit rewrites an input file with new content of the
// same size and puts its modification time back: its readers run again.
func TestMemoInputFileEdit(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("files.star", `
@bash_app(cache = True)
def count(inputs = []):
    return "echo count >> runs.log; wc -c < %s >> runs.log" % inputs[0].filepath

@bash_app(cache = True)
def show(f):
    return "echo show >> runs.log; cat %s >> runs.log" % f.filepath

@bash_app(cache = True)
def other(x):
    return "echo other >> runs.log"

data = File("data.txt")
print(count(inputs = [data]).result(), show(data).result(), other(1).result())
`)
	p.write("data.txt", "first\n")
	p.run("files.star").ok(t)
	// The apps run at once, so their lines come in any order.
	if got, want := sorted(p.take("runs.log")), sorted([]string{"count", "6", "show", "first", "other"}); !slices.Equal(got, want) {
		t.Errorf("first run wrote %q, want %q", got, want)
	}
	o := p.run("files.star").ok(t)
	if got := p.take("runs.log"); len(got) != 0 || o.states()["count memo_done"] != 1 {
		t.Fatalf("unchanged input: apps wrote %q, states %v; want all memo hits", got, o.states())
	}

	before, err := os.Stat(p.path("data.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p.write("data.txt", "again\n")
	if err := os.Chtimes(p.path("data.txt"), before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(p.path("data.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the edit changed size or mtime: %d %v, was %d %v", after.Size(), after.ModTime(), before.Size(), before.ModTime())
	}
	o = p.run("files.star").ok(t)
	got := [3]int{o.executed("count"), o.executed("show"), o.executed("other")}
	if got != [3]int{1, 1, 0} {
		t.Errorf("after the edit, count, show, other executed %v times, want [1 1 0]", got)
	}
	if got, want := sorted(p.take("runs.log")), sorted([]string{"count", "6", "show", "again"}); !slices.Equal(got, want) {
		t.Errorf("after the edit, the apps wrote %q, want %q", got, want)
	}
	o = p.run("files.star").ok(t)
	if n := o.states()["count exec_done"] + o.states()["show exec_done"]; n != 0 {
		t.Errorf("the new content was not memoized: %d readers ran again", n)
	}
}

// TestMemoOutputFiles: the files an app writes (outputs=) key by name, not
// by content: a rerun finds the producer's result although its output now
// exists, and the readers of that output run again when it changes.
func TestMemoOutputFiles(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("outputs.star", `
@bash_app(cache = True)
def produce(outputs = []):
    return "echo produce >> runs.log; echo data > %s" % outputs[0].filepath

@bash_app(cache = True)
def consume(inputs = []):
    return "echo consume >> runs.log; cat %s >> runs.log" % inputs[0].filepath

made = produce(outputs = [File("out.txt")])
print(made.result(), consume(inputs = [made.outputs[0]]).result())
`)
	p.run("outputs.star").ok(t)
	if got, want := p.take("runs.log"), []string{"produce", "consume", "data"}; !slices.Equal(got, want) {
		t.Errorf("first run wrote %q, want %q", got, want)
	}
	o := p.run("outputs.star").ok(t)
	if got := p.take("runs.log"); len(got) != 0 {
		t.Errorf("second run executed %q (%v), want all hits", got, o.states())
	}
	if err := rewriteKeepingTimes(p.path("out.txt"), "DATA\n"); err != nil {
		t.Fatal(err)
	}
	o = p.run("outputs.star").ok(t)
	if got, want := p.take("runs.log"), []string{"consume", "DATA"}; !slices.Equal(got, want) {
		t.Errorf("after an edit of the output, the run wrote %q (%v), want its reader only", got, o.states())
	}
}

// rewriteKeepingTimes replaces a file's content and puts its modification
// time back.
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

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}

// TestMemoValuesRoundTrip: a rerun that takes every result from the store
// prints exactly what the first run printed, for every kind of value an
// app may return.
func TestMemoValuesRoundTrip(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("values.star", `
@python_app(cache = True)
def make(kind):
    if kind == "none":
        return None
    if kind == "bools":
        return (True, False)
    if kind == "ints":
        return [0, -1, 7, 1 << 62, 1 << 64, -(1 << 200), 12345678901234567890123456789]
    if kind == "floats":
        return [0.0, -0.0, 1.0, 0.1, -2.5e-300, 1e308, float("inf"), float("-inf"), float("nan")]
    if kind == "strings":
        return ["", "plain", "héllo wörld ✓ 🌍", "tab\tnew\nline", "nul\x00byte", "quote\"'"]
    if kind == "bytes":
        return b"\x00\x01\xfe\xff ascii"
    if kind == "list":
        return [1, "two", 3.0, [4]]
    if kind == "tuple":
        return (1, "two", (3,), ())
    if kind == "dict":
        # Insertion order, not sorted order; keys of several types.
        return {"zebra": 1, "apple": 2, 3: "three", (4, 5): [6], 1.5: None}
    if kind == "set":
        return set([3, 1, 2, "x", (1, 2)])
    if kind == "file":
        return File("data/out.csv")
    if kind == "files":
        return [File("a.txt"), File("file:///tmp/b.txt")]
    if kind == "empty":
        return [[], (), {}, set(), "", b""]
    if kind == "nested":
        return {"k": [(1, 2.5), {"inner": set([1, 2])}, None], "b": b"\x01", "f": File("x.dat")}
    fail("unknown kind", kind)

KINDS = ["none", "bools", "ints", "floats", "strings", "bytes", "list", "tuple",
         "dict", "set", "file", "files", "empty", "nested"]

def describe(v):
    if type(v) in ("list", "tuple"):
        return "%s(%s)" % (type(v), ", ".join([describe(x) for x in v]))
    if type(v) == "dict":
        return "dict(%s)" % ", ".join(["%s: %s" % (describe(k), describe(x)) for k, x in v.items()])
    if type(v) == "set":
        return "set(%s)" % ", ".join([describe(x) for x in v])
    if type(v) == "File":
        return "File(%r, %r)" % (v.url, v.filepath)
    return "%s %r" % (type(v), v)

futures = [make(k) for k in KINDS]
for k, f in zip(KINDS, futures):
    print(k, describe(f.result()))
`)
	first := p.run("values.star").ok(t)
	if got := first.executed("make"); got != 14 {
		t.Fatalf("first run executed make %d times, want 14\n%s", got, first.stderr)
	}
	for _, want := range []string{
		`float nan`, `float -inf`, `float -0.0`, `int -1606938044258990275541962092341162602522202993782792835301376`,
		`"héllo wörld ✓ 🌍"`, `dict(string "zebra": int 1, string "apple": int 2, int 3:`,
		`set(int 3, int 1, int 2, string "x", tuple(int 1, int 2))`, `File("data/out.csv", "data/out.csv")`,
		`bytes b"\x00\x01\xfe\xff ascii"`,
	} {
		// Starlark quotes with ", Python with '; either will do here.
		if !strings.Contains(strings.ReplaceAll(first.stdout, "'", `"`), want) {
			t.Errorf("first run's output has no %q:\n%s", want, first.stdout)
		}
	}
	second := p.run("values.star").ok(t)
	if got := second.states(); got["make memo_done"] != 14 {
		t.Errorf("second run: %v, want 14 memo hits", got)
	}
	if second.stdout != first.stdout {
		t.Errorf("values changed through the store:\nfirst run:\n%s\nsecond run:\n%s", first.stdout, second.stdout)
	}
	if second.stderr != "" {
		t.Errorf("second run wrote to stderr:\n%s", second.stderr)
	}
}

// badStoreScript prints, runs an uncached task, then calls a cached app
// whose side effect shows whether it ran.
const badStoreScript = `
@bash_app
def plain():
    return "echo plain >> runs.log"

@bash_app(cache = True)
def cached():
    return "echo cached >> runs.log"

print("started")
plain().result()
cached().result()
print("not reached")
`

// TestMemoBadStore: a store starflow cannot use is an error at the first
// cached call, before that task runs, with exit status 2 and a message
// that says what is wrong; never a crash.
func TestMemoBadStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(p *memoProject)
		want  []string // in stderr
	}{
		{
			name: "newer format",
			setup: func(p *memoProject) {
				if err := os.MkdirAll(p.path(".starflow/memo"), 0o755); err != nil {
					t.Fatal(err)
				}
				p.write(".starflow/memo/FORMAT", "starflow memo store\nformat 99\n")
			},
			want: []string{"bad.star:12:7: cached: memo store ", fmt.Sprintf(".starflow/memo has format version 99, newer than the %d this starflow reads", memo.FormatVersion)},
		},
		{
			name:  "not a starflow store",
			setup: func(p *memoProject) { p.write(".starflow", "") },
			want:  []string{"bad.star:12:7: cached: memo store ", "cannot create it", ".starflow: not a directory"},
		},
		{
			name: "garbage format record",
			setup: func(p *memoProject) {
				if err := os.MkdirAll(p.path(".starflow/memo"), 0o755); err != nil {
					t.Fatal(err)
				}
				p.write(".starflow/memo/FORMAT", "\x00\x01binary")
			},
			want: []string{"bad.star:12:7: cached: memo store ", "not a starflow memo store"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newMemoProject(t)
			p.write("bad.star", badStoreScript)
			tc.setup(p)
			o := p.run("bad.star")
			if o.code != exitUsage {
				t.Errorf("exit status %d, want %d", o.code, exitUsage)
			}
			for _, w := range tc.want {
				if !strings.Contains(o.stderr, w) {
					t.Errorf("stderr has no %q:\n%s", w, o.stderr)
				}
			}
			if strings.Contains(o.stderr, "panic") || strings.Contains(o.stderr, "goroutine ") {
				t.Errorf("starflow crashed:\n%s", o.stderr)
			}
			if o.stdout != "started\n" {
				t.Errorf("stdout = %q, want the script stopped at the cached call", o.stdout)
			}
			if got := p.take("runs.log"); !slices.Equal(got, []string{"plain"}) {
				t.Errorf("tasks that ran: %q, want only the uncached one", got)
			}
		})
	}
}

// TestMemoStoreInUse: a second run in the same project while the first
// holds the store fails at once, naming the first; once that one is gone
// (even killed) the store opens again.
func TestMemoStoreInUse(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("hold.star", `
@bash_app(cache = True)
def nap():
    return "echo $$ > napping.tmp && mv napping.tmp napping && exec sleep 60"
nap().result()
`)
	p.write("bad.star", badStoreScript)
	holder := p.start("hold.star")
	holder.waitFor("the nap", func() bool { return p.read("napping") != "" })

	o := p.run("bad.star")
	if o.code != exitUsage {
		t.Errorf("exit status %d, want %d", o.code, exitUsage)
	}
	want := fmt.Sprintf("is in use by pid %d (starflow run --no-progress --log-level debug hold.star) on ", holder.cmd.Process.Pid)
	if !strings.Contains(o.stderr, want) || !strings.Contains(o.stderr, "bad.star:12:7: cached: memo store") {
		t.Errorf("stderr does not name the holder (want %q):\n%s", want, o.stderr)
	}
	if got := p.take("runs.log"); !slices.Equal(got, []string{"plain"}) {
		t.Errorf("tasks that ran: %q, want only the uncached one", got)
	}

	holder.kill()
	o = p.run("bad.star")
	if o.code != 0 || o.stdout != "started\nnot reached\n" {
		t.Errorf("after the holder died: exit %d, stdout %q\nstderr:\n%s", o.code, o.stdout, o.stderr)
	}
}

// TestMemoUnstorableResult: a result the store cannot hold is a warning
// that names its type; the task succeeds, and the next run computes it
// again.
func TestMemoUnstorableResult(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("unstorable.star", `
def helper():
    return 1

@python_app(cache = True)
def function():
    return helper

@python_app(cache = True)
def nested():
    return {"ok": [1, 2], "bad": range(3)}

@python_app(cache = True)
def fine():
    return 42

print(function().result()(), nested().result()["ok"], fine().result())
`)
	for run := range 2 {
		o := p.run("unstorable.star").ok(t)
		if o.stdout != "1 [1, 2] 42\n" {
			t.Errorf("run %d printed %q", run, o.stdout)
		}
		for _, w := range []string{
			"starflow: warning: result of function not memoized: a value of type function cannot be stored",
			"starflow: warning: result of nested not memoized: a value of type range (at [\"bad\"]) cannot be stored",
		} {
			if !strings.Contains(o.stderr, w) {
				t.Errorf("run %d: stderr has no %q:\n%s", run, w, o.stderr)
			}
		}
		want := map[string]int{"function exec_done": 1, "nested exec_done": 1, "fine exec_done": 1 - run, "fine memo_done": run}
		for k, n := range want {
			if got := o.states()[k]; got != n {
				t.Errorf("run %d: %d tasks %s, want %d", run, got, k, n)
			}
		}
	}
}
