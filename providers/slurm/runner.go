package slurm

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// Runner runs one scheduler command (sbatch, squeue, sacct, scancel). The
// provider bounds ctx with cmd_timeout; everything it knows about Slurm
// it reads from what Run returns, so tests swap in canned outputs.
type Runner interface {
	Run(ctx context.Context, name string, args []string, stdin []byte) (stdout, stderr []byte, err error)
}

// ExecRunner runs the commands on this machine.
type ExecRunner struct {
	// WaitDelay bounds how long Run waits for the command's output after
	// ctx ends (a child of a killed command may hold the pipes); 0 means
	// 1 s.
	WaitDelay time.Duration
}

// Run implements Runner. The command gets a process group of its own so
// that a hung command is killed with whatever it started.
func (r ExecRunner) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = time.Second
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		// The kill's "signal: killed" would hide why the command ended.
		err = errors.Join(context.Cause(ctx), err)
	}
	return stdout.Bytes(), stderr.Bytes(), err
}
