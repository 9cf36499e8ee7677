package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// hangLimit bounds every wait below so that a hung starflow fails the
// test instead of stalling it. It is not a performance threshold: the
// issue asks for well under a second, and the time taken is logged.
const hangLimit = 10 * time.Second

// starflowBinary is the command TestMain's testscript.Main put on PATH: a
// copy of this test binary that runs starflow's main.
func starflowBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("starflow")
	if err != nil {
		t.Fatalf("starflow is not on PATH (TestMain puts it there): %v", err)
	}
	return bin
}

// naps is a workflow whose two bash apps record their pid, then sleep far
// longer than any test waits.
const naps = `
@bash_app
def nap(i):
    return "echo $$ > pids/%d.tmp && mv pids/%d.tmp pids/%d.pid && exec sleep 30" % (i, i, i)

for f in [nap(i) for i in range(2)]:
    f.result()
print("not reached")
`

// napRun is a background run of naps.star.
type napRun = bgRun

// stdout and stderr are files rather than pipes: a pipe would keep Wait
// waiting for any bash app left running, and hide how soon starflow
// itself exited.
func (r *napRun) stdout(t *testing.T) string { return readFile(t, filepath.Join(r.dir, "stdout")) }
func (r *napRun) stderr(t *testing.T) string { return readFile(t, filepath.Join(r.dir, "stderr")) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func createFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// startNaps starts `starflow run naps.star` and returns once both apps are
// sleeping, with their pids.
func startNaps(t *testing.T) (*napRun, []int) {
	t.Helper()
	r := &napRun{dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(r.dir, "naps.star"), []byte(naps), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(r.dir, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.start(t, "run", "--workers", "2", "naps.star")

	deadline := time.Now().Add(hangLimit)
	for {
		pids, _ := filepath.Glob(filepath.Join(r.dir, "pids", "*.pid"))
		if len(pids) == 2 {
			return r, readPIDs(t, pids)
		}
		select {
		case <-r.exited:
			t.Fatalf("starflow exited before its apps started: %v\nstderr:\n%s", r.waitErr, r.stderr(t))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("bash apps did not start within %v", hangLimit)
		}
	}
}

func readPIDs(t *testing.T, files []string) []int {
	t.Helper()
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// wait waits for starflow to exit and returns its exit status and how long
// it took.
func (r *napRun) wait(t *testing.T, since time.Time) (int, time.Duration) {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(hangLimit):
		t.Fatalf("starflow still running %v after the signal\nstderr:\n%s", hangLimit, r.stderr(t))
	}
	took := time.Since(since)
	var ee *exec.ExitError
	if !errors.As(r.waitErr, &ee) {
		t.Fatalf("starflow: %v, want an exit status", r.waitErr)
	}
	return ee.ExitCode(), took
}

// alive reports whether pid is a process that has not exited: a zombie
// waiting for its parent to reap it is dead.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func TestSignalStopsRun(t *testing.T) {
	t.Parallel()
	if !alive(os.Getpid()) {
		t.Fatal("alive() does not see this process")
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, exitInterrupted},
		{syscall.SIGTERM, exitTerminated},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			r, pids := startNaps(t)
			sent := time.Now()
			if err := r.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			code, took := r.wait(t, sent)
			t.Logf("exited %d in %v", code, took)
			if code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}

			// The sleeps were killed with their process groups, not left
			// behind. Killing is done before starflow exits, but reaping
			// orphans is up to init, so a zombie counts as gone.
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("bash app process %d still running after starflow exited", pid)
				}
			}

			if got := r.stdout(t); got != "" {
				t.Errorf("stdout = %q, want nothing: the script was stopped", got)
			}
			stderr := r.stderr(t)
			if !strings.Contains(stderr, "starflow: interrupted; 2 tasks: 0 done, 0 failed, 2 cancelled") {
				t.Errorf("stderr has no summary:\n%s", stderr)
			}
			if strings.Contains(stderr, "never looked at") {
				t.Errorf("tasks cancelled by the signal are reported as failures:\n%s", stderr)
			}
			log, err := os.ReadFile(filepath.Join(r.dir, "runinfo", "000", "starflow.log"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(log, []byte("run finished: tasks=2")) {
				t.Errorf("log has no summary:\n%s", log)
			}
		})
	}
}

// Two Ctrl-C in a row: starflow exits with 130 whether the second one
// arrives while it is stopping (and exits at once) or after.
func TestSecondInterrupt(t *testing.T) {
	t.Parallel()
	r, pids := startNaps(t)
	sent := time.Now()
	for range 2 {
		if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatal(err)
		}
	}
	code, took := r.wait(t, sent)
	t.Logf("exited %d in %v\nstderr:\n%s", code, took, r.stderr(t))
	if code != exitInterrupted {
		t.Errorf("exit status %d, want %d", code, exitInterrupted)
	}
	// Exiting at once must not leave bash apps behind: the exit-now path
	// kills their process groups first. SIGKILL is asynchronous, so give
	// the kernel a moment before calling a process a survivor.
	for _, pid := range pids {
		deadline := time.Now().Add(10 * time.Second)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			t.Errorf("bash app process %d outlived starflow's exit-now path", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// The second signal's path, which the test above cannot force: while the
// run is still stopping, a second signal exits at once with its status.
func TestSecondSignalExits(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var stderr bytes.Buffer
	exited := make(chan int, 1)
	s := newSignals(cancel, &stderr, func(code int) { exited <- code })
	go s.loop()
	defer s.stop()

	s.ch <- syscall.SIGTERM
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, dfk.ErrInterrupted) {
		t.Errorf("run cancelled with %v, want %v", cause, dfk.ErrInterrupted)
	}
	if got := s.code(); got != exitTerminated {
		t.Errorf("code() = %d after SIGTERM, want %d", got, exitTerminated)
	}

	s.ch <- syscall.SIGINT
	if got := <-exited; got != exitInterrupted {
		t.Errorf("second signal exited %d, want %d", got, exitInterrupted)
	}
	if !strings.Contains(stderr.String(), "second signal, exiting now") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
