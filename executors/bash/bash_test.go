package bash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hang bounds anything that would only take long if Run hung.
const hang = 10 * time.Second

func TestRunExit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		command string
		code    int // 0: success
	}{
		{"true", 0},
		{"exit 0", 0},
		{"exit 3", 3},
		{"false", 1},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			t.Parallel()
			err := Run(context.Background(), "app", Spec{Command: tt.command})
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				return
			}
			var ef *ExitFailure
			if !errors.As(err, &ef) {
				t.Fatalf("Run: got %v, want *ExitFailure", err)
			}
			if want := (ExitFailure{App: "app", Code: tt.code}); *ef != want {
				t.Errorf("Run: got %+v, want %+v", *ef, want)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&ExitFailure{App: "sim", Code: 3}, "bash app sim failed with exit code 3"},
		{&ExitFailure{Code: 1}, "bash command failed with exit code 1"},
		{&Timeout{App: "sim", Walltime: 200 * time.Millisecond}, "bash app sim exceeded walltime of 0.2s"},
		{&Timeout{Walltime: 10 * time.Second}, "bash command exceeded walltime of 10s"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestRunRedirects(t *testing.T) {
	t.Parallel()
	const script = "echo out1; echo err1 >&2; echo out2"
	tests := []struct {
		name           string
		stdout, stderr Redirect // paths relative to the test's directory
		wantOut        string   // in file "out"
		wantErr        string   // in file "err", if stderr names it
	}{
		{"truncate", Redirect{Path: "out"}, Redirect{Path: "err"}, "out1\nout2\n", "err1\n"},
		{"append", Redirect{Path: "out", Append: true}, Redirect{Path: "err", Append: true}, "old\nout1\nout2\n", "old\nerr1\n"},
		{"same file", Redirect{Path: "out"}, Redirect{Path: "out"}, "out1\nerr1\nout2\n", ""},
		{"same file appended", Redirect{Path: "out", Append: true}, Redirect{Path: "out", Append: true}, "old\nout1\nerr1\nout2\n", ""},
		{"same file spelled differently", Redirect{Path: "out"}, Redirect{Path: "./sub/../out"}, "out1\nerr1\nout2\n", ""},
		{"stdout only", Redirect{Path: "out"}, Redirect{}, "out1\nout2\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, name := range []string{"out", "err"} {
				writeFile(t, filepath.Join(dir, name), "old\n")
			}
			// Relative paths resolve against Dir, which the test also checks.
			err := Run(context.Background(), "", Spec{Command: script, Stdout: tt.stdout, Stderr: tt.stderr, Dir: dir})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := readFile(t, filepath.Join(dir, "out")); got != tt.wantOut {
				t.Errorf("out = %q, want %q", got, tt.wantOut)
			}
			if tt.wantErr != "" {
				if got := readFile(t, filepath.Join(dir, "err")); got != tt.wantErr {
					t.Errorf("err = %q, want %q", got, tt.wantErr)
				}
			}
		})
	}
}

func TestRunRedirectMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out")
	if err := Run(context.Background(), "", Spec{Command: "echo hi", Stdout: Redirect{Path: path}}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The umask may only clear bits.
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 {
		t.Errorf("mode = %v, want at most 0644", perm)
	}
}

func TestRunDefaultWriters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var outBuf bytes.Buffer
	errFile, err := os.Create(filepath.Join(dir, "err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	s := Spec{Command: "echo out; echo err >&2", DefaultStdout: &outBuf, DefaultStderr: errFile}
	if err := Run(context.Background(), "", s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := outBuf.String(); got != "out\n" {
		t.Errorf("stdout = %q, want %q", got, "out\n")
	}
	if got := readFile(t, errFile.Name()); got != "err\n" {
		t.Errorf("stderr = %q, want %q", got, "err\n")
	}
}

func TestRunEnvAndDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	s := Spec{
		Command:       `echo "$PARSL_WORKER_RANK $PWD"`,
		Env:           []string{"PARSL_WORKER_RANK=7"},
		Dir:           dir,
		DefaultStdout: &out,
	}
	if err := Run(context.Background(), "", s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := out.String(), "7 "+dir+"\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestRunCreatesRedirectDir(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "out")
	s := Spec{Command: "echo hi", Stdout: Redirect{Path: path}, Stderr: Redirect{Path: path + ".err"}}
	if err := Run(context.Background(), "", s); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := readFile(t, path); got != "hi\n" {
		t.Errorf("out = %q, want %q", got, "hi\n")
	}
}

func TestRunUnopenableRedirect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	writeFile(t, file, "")
	bad := filepath.Join(file, "out") // a path under a regular file
	ran := filepath.Join(dir, "ran")
	tests := []struct {
		stream string
		spec   Spec
	}{
		{"stdout", Spec{Stdout: Redirect{Path: bad}}},
		{"stderr", Spec{Stdout: Redirect{Path: filepath.Join(dir, "out")}, Stderr: Redirect{Path: bad}}},
	}
	for _, tt := range tests {
		t.Run(tt.stream, func(t *testing.T) {
			t.Parallel()
			tt.spec.Command = "touch " + ran
			err := Run(context.Background(), "", tt.spec)
			if err == nil {
				t.Fatal("Run: got nil error")
			}
			if want := "open " + tt.stream + " " + strconv.Quote(bad); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Run: got %q, want prefix %q", err, want)
			}
			if !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf("Run: got %v, want it to wrap ENOTDIR", err)
			}
			if _, err := os.Stat(ran); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

func TestRunStartFailure(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), "sim", Spec{Command: "true", Dir: filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.HasPrefix(err.Error(), "start bash app sim: ") {
		t.Fatalf("Run: got %v, want a start error", err)
	}
}

// leaveBehind writes the shell's pid and a background child's pid to pids,
// then sleeps far longer than any test waits.
func leaveBehind(pids string) string {
	return "sleep 100 & echo $! > " + pids + "; echo $$ >> " + pids + "; sleep 10"
}

func TestRunWalltime(t *testing.T) {
	t.Parallel()
	pids := filepath.Join(t.TempDir(), "pids")
	// Run returning a Timeout with the shell and its child gone (below)
	// is the proof that the walltime cut the 10 s sleep short; no clock
	// is read, so a loaded machine cannot fail the test.
	err := Run(context.Background(), "sim", Spec{Command: leaveBehind(pids), Walltime: 200 * time.Millisecond})
	var to *Timeout
	if !errors.As(err, &to) {
		t.Fatalf("Run: got %v, want *Timeout", err)
	}
	if want := (Timeout{App: "sim", Walltime: 200 * time.Millisecond}); *to != want {
		t.Errorf("Run: got %+v, want %+v", *to, want)
	}
	for _, pid := range readPids(t, pids) {
		waitGone(t, pid)
	}
}

func TestRunCancel(t *testing.T) {
	t.Parallel()
	interrupted := errors.New("interrupted")
	tests := []struct {
		name  string
		cause error // given to cancel
		want  error // matched with errors.Is
	}{
		{"cause", interrupted, interrupted},
		{"plain", nil, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pids := filepath.Join(t.TempDir(), "pids")
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			done := make(chan error, 1)
			go func() { done <- Run(ctx, "sim", Spec{Command: leaveBehind(pids)}) }()
			waitPids(t, pids)
			cancel(tt.cause)

			var err error
			select {
			case err = <-done:
			case <-time.After(hang):
				t.Fatal("Run did not return after cancellation")
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, context.Cause(ctx)) {
				t.Errorf("Run: got %v, want it to wrap %v", err, tt.want)
			}
			for _, pid := range readPids(t, pids) {
				waitGone(t, pid)
			}
		})
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	interrupted := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(interrupted)
	err := Run(ctx, "", Spec{Command: "echo hi", Stdout: Redirect{Path: out}})
	if !errors.Is(err, interrupted) {
		t.Errorf("Run: got %v, want it to wrap %v", err, interrupted)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled command still opened its stdout")
	}
}

// A command that exits while a background child holds its output pipe must
// neither hang Run nor leave the child running.
func TestRunKillsLeftovers(t *testing.T) {
	t.Parallel()
	pids := filepath.Join(t.TempDir(), "pids")
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), "", Spec{Command: "sleep 100 & echo $! > " + pids, DefaultStdout: &out})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(hang):
		t.Fatal("Run hung on a background child holding stdout")
	}
	for _, pid := range readPids(t, pids) {
		waitGone(t, pid)
	}
}

// A process that left the group cannot be killed with it; WaitDelay keeps
// it from hanging Run through the stdout pipe it holds.
func TestRunEscapedChildHoldingPipe(t *testing.T) {
	t.Parallel()
	pids := filepath.Join(t.TempDir(), "pids")
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		// The shell waits for the pid, so the child has left the group
		// before the group is killed.
		cmd := "setsid sh -c 'echo $$ > " + pids + "; exec sleep 30' & while [ ! -s " + pids + " ]; do sleep 0.01; done"
		done <- Run(context.Background(), "", Spec{Command: cmd, DefaultStdout: &out})
	}()
	pid := waitPids(t, pids)[0]
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(hang):
		t.Fatal("Run hung on an escaped child holding stdout")
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// readPids reads the pids a finished command wrote, one per line.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(readFile(t, path)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		t.Fatalf("%s: no pids", path)
	}
	return pids
}

// waitPids waits until a running command has written its last pid line.
func waitPids(t *testing.T, path string) []int {
	t.Helper()
	for deadline := time.Now().Add(hang); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			return readPids(t, path)
		}
	}
	t.Fatalf("%s: no pids written", path)
	return nil
}

// waitGone waits until pid no longer runs. A killed orphan stays a zombie
// until init reaps it, which some container inits never do, so a zombie
// counts as gone.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(hang); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			return
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		// The state follows the parenthesised command name.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(stat[i:], []byte(") Z")) {
			return
		}
	}
	t.Errorf("process %d still runs", pid)
}

func BenchmarkRunTrue(b *testing.B) {
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := Run(ctx, "true", Spec{Command: "true"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawExecTrue is the baseline BenchmarkRunTrue is held to.
func BenchmarkRawExecTrue(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := exec.Command("/bin/bash", "-c", "true").Run(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestTrackerKillAll(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	tr := NewTracker()
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), "sleeper", Spec{
			Command: "sleep 30 & echo $! > " + pidFile + "; wait",
			Tracker: tr,
		})
	}()
	var child int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 1 {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
	}
	if child == 0 {
		t.Fatal("command did not start")
	}
	if n := tr.KillAll(); n != 1 {
		t.Fatalf("KillAll signalled %d groups, want 1", n)
	}
	select {
	case err := <-done:
		var ef *ExitFailure
		if !errors.As(err, &ef) || ef.Code != 128+9 {
			t.Errorf("Run = %v, want exit 137", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after KillAll")
	}
	if n := tr.KillAll(); n != 0 {
		t.Errorf("KillAll after exit signalled %d groups", n)
	}
}

// recordingWatcher remembers what a Tracker told it.
type recordingWatcher struct {
	mu     sync.Mutex
	events []string
	pgids  []int
}

func (w *recordingWatcher) ProcessStarted(task, try, pgid int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, fmt.Sprintf("started %d.%d", task, try))
	w.pgids = append(w.pgids, pgid)
}

func (w *recordingWatcher) ProcessEnded(task, try, pgid int, state *os.ProcessState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, fmt.Sprintf("ended %d.%d exit %d", task, try, state.ExitCode()))
	w.pgids = append(w.pgids, pgid)
}

func TestTrackerTellsWatchersOfTries(t *testing.T) {
	t.Parallel()
	tr := NewTracker()
	var w recordingWatcher
	stop := tr.Watch(&w)
	// The group's leader is the shell: $$ is the pgid the watcher gets.
	pidFile := filepath.Join(t.TempDir(), "pid")
	err := Run(context.Background(), "app", Spec{Command: "echo $$ > " + pidFile + "; exit 4", Tracker: tr, TryID: &TryID{Task: 7, Try: 1}})
	var ef *ExitFailure
	if !errors.As(err, &ef) || ef.Code != 4 {
		t.Fatalf("Run = %v, want exit 4", err)
	}
	// A command that is no task's try is not reported.
	if err := Run(context.Background(), "app", Spec{Command: "true", Tracker: tr}); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := Run(context.Background(), "app", Spec{Command: "true", Tracker: tr, TryID: &TryID{Task: 8}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	shell, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	want := []string{"started 7.1", "ended 7.1 exit 4"}
	if !slices.Equal(w.events, want) || !slices.Equal(w.pgids, []int{shell, shell}) {
		t.Errorf("watcher saw %q for pgids %v, want %q for %d", w.events, w.pgids, want, shell)
	}
}
