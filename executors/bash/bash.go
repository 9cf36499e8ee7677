// Package bash runs the command line a bash_app returns: /bin/bash -c in its
// own process group, with Parsl's stdout/stderr redirection and walltime.
// Whatever the command leaves behind in its group is killed before Run
// returns, so a finished app never leaves work running on the node.
package bash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Redirect is one of Parsl's stdout/stderr specifications.
type Redirect struct {
	Path   string // "" means: write to the Spec's default writer
	Append bool   // Parsl's (path, "a"); false truncates like (path, "w")
}

// Spec describes one command to run.
type Spec struct {
	Command        string
	Stdout, Stderr Redirect
	// DefaultStdout and DefaultStderr receive the output of a stream whose
	// Redirect has no path; nil discards it.
	DefaultStdout, DefaultStderr io.Writer
	Walltime                     time.Duration // 0: no limit
	Env                          []string      // added to os.Environ(), e.g. "PARSL_WORKER_RANK=1"
	// Dir is the working directory ("" = current). Relative redirect paths
	// are taken relative to it, so they name the same files the command sees.
	Dir string
	// Tracker, if set, knows this command's process group while it runs.
	Tracker *Tracker
	// TryID names the task try the command runs for, so that the
	// Tracker's watchers (resource monitoring) can tell whose group it
	// is; nil means they are not told about this command.
	TryID *TryID
}

// TryID names one try of one task, as the kernel numbers them.
type TryID struct{ Task, Try int }

// ExitFailure is Parsl's BashExitFailure: the command exited non-zero.
type ExitFailure struct {
	App  string
	Code int
}

func (e *ExitFailure) Error() string {
	return label(e.App) + " failed with exit code " + strconv.Itoa(e.Code)
}

// Timeout is Parsl's AppTimeout for bash apps.
type Timeout struct {
	App      string
	Walltime time.Duration
}

func (e *Timeout) Error() string {
	secs := strconv.FormatFloat(e.Walltime.Seconds(), 'f', -1, 64)
	return label(e.App) + " exceeded walltime of " + secs + "s"
}

func label(app string) string {
	if app == "" {
		return "bash command"
	}
	return "bash app " + app
}

// waitDelay bounds how long Run waits, after the command exited or was
// killed, for its output pipes to close. Only a process that left the group
// (setsid) can still hold them then, and it must not hang the app.
const waitDelay = time.Second

// Run runs s.Command and returns nil on exit 0, *ExitFailure on a non-zero
// exit (a command killed by a signal N reports Code 128+N like bash does),
// *Timeout when the walltime passed (the whole process group is killed),
// and ctx's cause (context.Cause) wrapped when ctx was cancelled (the whole
// process group is killed first). Errors opening the redirect files are
// returned wrapped with the path ("open stdout %q: %w"); parent directories
// of redirect paths are created (0o755).
func Run(ctx context.Context, app string, s Spec) error {
	// A cancelled task must not even truncate its output files.
	if ctx.Err() != nil {
		return cancelled(ctx, app)
	}
	out, err := openOutputs(&s)
	if err != nil {
		return err
	}

	runCtx := ctx
	if s.Walltime > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, s.Walltime, &Timeout{App: app, Walltime: s.Walltime})
		defer cancel()
	}

	cmd := exec.CommandContext(runCtx, "/bin/bash", "-c", s.Command)
	cmd.Stdout, cmd.Stderr = out.stdout, out.stderr
	cmd.Dir = s.Dir
	if len(s.Env) > 0 {
		cmd.Env = append(cmd.Environ(), s.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var g group
	cmd.Cancel = func() error { return g.kill(cmd.Process.Pid) }
	cmd.WaitDelay = waitDelay

	err = cmd.Start()
	// The child holds its own copies of the descriptors now.
	out.close()
	if err != nil {
		if runCtx.Err() != nil {
			return stopped(ctx, runCtx, app)
		}
		return fmt.Errorf("start %s: %w", label(app), err)
	}
	if s.Tracker != nil {
		s.Tracker.add(&g, cmd.Process.Pid, s.TryID)
	}
	g.finish(cmd.Process.Pid)
	err = cmd.Wait()
	if s.Tracker != nil {
		s.Tracker.remove(&g, s.TryID, cmd.ProcessState)
	}
	return result(ctx, runCtx, app, err)
}

// result turns cmd.Wait's error into Run's.
func result(ctx, runCtx context.Context, app string, err error) error {
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		// ErrWaitDelay only comes with exit 0: the app succeeded, and it is
		// a process that escaped the group which still held the pipe.
		return nil
	}
	if runCtx.Err() != nil {
		return stopped(ctx, runCtx, app)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("run %s: %w", label(app), err)
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return &ExitFailure{App: app, Code: code}
}

// stopped reports why runCtx ended: the caller's cancellation wins over
// the walltime, whose cause is the *Timeout itself.
func stopped(ctx, runCtx context.Context, app string) error {
	if ctx.Err() != nil {
		return cancelled(ctx, app)
	}
	return context.Cause(runCtx)
}

func cancelled(ctx context.Context, app string) error {
	return fmt.Errorf("%s cancelled: %w", label(app), context.Cause(ctx))
}
