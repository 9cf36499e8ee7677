// Package local is Parsl's LocalProvider: each block is a bash script run
// on this machine in a process group of its own. Status comes from the
// process itself, Cancel and walltime end the whole group (SIGTERM, then
// SIGKILL after a grace), and Close leaves no process of any block behind.
package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sys/unix"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
)

// Config is LocalProvider's parameters.
type Config struct {
	// Settings carries nodes_per_block, init_blocks, min_blocks,
	// max_blocks, parallelism, walltime, worker_init, cmd_timeout and
	// launcher. Parsl's LocalProvider takes a walltime but never enforces
	// it; here a walltime the user gives ends the block, and none is the
	// default, so a long local run is not cut after Parsl's nominal
	// 15 minutes. cmd_timeout bounds scheduler commands, of which a local
	// block has none.
	providers.Settings
	// MoveFiles is move_files. Parsl uses it to copy scripts over remote
	// channels; a local block needs no copy, so it is accepted and unused.
	MoveFiles *bool
	// Grace is how long a cancelled block's processes have between SIGTERM
	// and SIGKILL (not a Parsl parameter); 0 means 2 s.
	Grace  time.Duration
	Logger hclog.Logger
}

// Defaults returns Parsl's LocalProvider defaults.
func Defaults() Config {
	return Config{Settings: providers.Settings{
		NodesPerBlock: 1,
		InitBlocks:    1,
		MinBlocks:     0,
		MaxBlocks:     1,
		Parallelism:   1,
		CmdTimeout:    30 * time.Second,
		Launcher:      launchers.NewSingleNode(),
	}}
}

// The causes that end a block early; its final state follows from them.
var (
	errCancelled = errors.New("cancelled")
	errWalltime  = errors.New("walltime exceeded")
	errClosed    = errors.New("provider closed")
)

// Provider runs blocks as local process groups.
type Provider struct {
	cfg Config
	log hclog.Logger

	// Every block's context derives from base; Close cancels it, which
	// also refuses blocks that are still starting.
	base context.Context
	stop context.CancelCauseFunc

	mu     sync.Mutex
	jobs   map[string]*job
	closed bool
	wg     sync.WaitGroup // one per supervise goroutine
}

var _ providers.Provider = (*Provider)(nil)

// job is one block's process group.
type job struct {
	id    string
	block providers.Block
	cmd   *exec.Cmd
	grp   *group
	stop  context.CancelCauseFunc
	ctx   context.Context

	exited atomic.Bool   // the leader has exited; the group is being cleaned
	done   chan struct{} // closed once final is set
	final  providers.Status
}

// New checks cfg and returns a provider; a nil Launcher is Parsl's
// default SingleNodeLauncher.
func New(cfg Config) (*Provider, error) {
	if cfg.Launcher == nil {
		cfg.Launcher = launchers.NewSingleNode()
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("LocalProvider: %w", err)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	base, stop := context.WithCancelCause(context.Background())
	return &Provider{cfg: cfg, log: log.Named("local"), base: base, stop: stop, jobs: make(map[string]*job)}, nil
}

// Settings implements providers.Provider.
func (p *Provider) Settings() providers.Settings { return p.cfg.Settings }

// Submit writes the block's script beside its .stdout and .stderr and
// starts it with /bin/bash in its own process group, in b.Dir. The job id
// is the leader's pid, as in Parsl.
func (p *Provider) Submit(ctx context.Context, b providers.Block) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("submit block %d: %w", b.ID, err)
	}
	// The block runs in b.Dir, so its script's path must not be relative
	// to where starflow was started.
	if b.Dir != "" {
		dir, err := filepath.Abs(b.Dir)
		if err != nil {
			return "", fmt.Errorf("submit block %d: %w", b.ID, err)
		}
		b.Dir = dir
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return "", fmt.Errorf("submit block %d: %w", b.ID, errClosed)
	}
	p.wg.Add(1) // before unlocking, so Close waits for this block too
	p.mu.Unlock()

	j, err := p.start(b)
	if err != nil {
		p.wg.Done()
		return "", fmt.Errorf("submit block %d: %w", b.ID, err)
	}
	p.mu.Lock()
	j.id = strconv.Itoa(j.cmd.Process.Pid)
	for n := 1; p.jobs[j.id] != nil; n++ { // a pid reused by a later block
		j.id = fmt.Sprintf("%d.%d", j.cmd.Process.Pid, n)
	}
	p.jobs[j.id] = j
	p.mu.Unlock()
	go p.supervise(j)
	p.log.Info("block started", "block", b.Name(), "job_id", j.id, "script", b.ScriptPath())
	return j.id, nil
}

// start writes the script and starts its process group.
func (p *Provider) start(b providers.Block) (*job, error) {
	if b.Dir == "" {
		return nil, errors.New("no submit_scripts folder (Block.Dir)")
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return nil, err
	}
	// 0600: the worker command may name the run's secrets.
	body := "#!/bin/bash\n" + providers.BlockScript(b, p.cfg.Settings)
	if err := os.WriteFile(b.ScriptPath(), []byte(body), 0o600); err != nil {
		return nil, err
	}
	stdout, err := os.OpenFile(b.StdoutPath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer stdout.Close() // the child holds its own copy once started
	stderr, err := os.OpenFile(b.StderrPath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()

	ctx, stop := context.WithCancelCause(p.base)
	if p.cfg.Walltime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, p.cfg.Walltime, errWalltime)
		parentStop := stop
		stop = func(cause error) { parentStop(cause); cancel() }
	}
	j := &job{block: b, ctx: ctx, stop: stop, grp: &group{}, done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, "/bin/bash", b.ScriptPath())
	cmd.Dir = b.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Ending the block means the whole group gets SIGTERM; a leader still
	// there after the grace gets SIGKILL from exec, and supervise then
	// kills what is left of the group. (exec sets cmd.Process before it
	// can call Cancel.)
	cmd.Cancel = func() error { return j.grp.signal(cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = p.cfg.Grace
	if err := cmd.Start(); err != nil {
		stop(nil)
		return nil, err
	}
	j.cmd = cmd
	return j, nil
}

// supervise waits for the block's leader, gives the rest of the group its
// grace when the block was ended on purpose, kills what is left, reaps the
// leader and records the final status.
func (p *Provider) supervise(j *job) {
	defer p.wg.Done()
	defer j.stop(nil)
	pid := j.cmd.Process.Pid
	waitErr := waitExited(pid)
	j.exited.Store(true)
	if waitErr != nil {
		// Only our own Wait reaps, so this should not happen; without a
		// zombie pinning it the group id may be someone else's by now.
		j.grp.release(0)
	} else {
		if j.ctx.Err() != nil {
			awaitEmpty(pid, p.cfg.Grace)
		}
		j.grp.release(pid)
		// SIGKILL is delivered asynchronously; the zombie leader keeps the
		// group id ours until the last member has really gone.
		awaitEmpty(pid, p.cfg.Grace)
	}
	_ = j.cmd.Wait() // the outcome is read from ProcessState
	st := p.classify(j)
	p.mu.Lock()
	j.final = st
	p.mu.Unlock()
	close(j.done)
	if st.State == providers.Completed || st.State == providers.Cancelled {
		p.log.Info("block ended", "block", j.block.Name(), "job_id", j.id, "state", st.State)
	} else {
		p.log.Warn("block ended", "block", j.block.Name(), "job_id", j.id, "state", st.State, "message", st.Message)
	}
}

// classify turns how the leader ended, and why it was ended, into a
// Status.
func (p *Provider) classify(j *job) providers.Status {
	ps := j.cmd.ProcessState
	if ps == nil {
		return providers.Status{State: providers.Failed, Message: "lost track of the block's process"}
	}
	if ps.Success() {
		return providers.Status{State: providers.Completed}
	}
	switch cause := context.Cause(j.ctx); {
	case errors.Is(cause, errWalltime):
		return providers.Status{State: providers.Timeout, Message: "walltime " + providers.FormatWalltime(p.cfg.Walltime) + " exceeded"}
	case errors.Is(cause, errCancelled), errors.Is(cause, errClosed):
		return providers.Status{State: providers.Cancelled, Message: cause.Error()}
	}
	ws, _ := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		// Killed from outside starflow (the OOM killer, a user's kill).
		msg := "killed by " + unix.SignalName(ws.Signal())
		if tail := providers.Tail(j.block.StderrPath(), 10); tail != "" {
			msg += "; " + j.block.StderrPath() + " ends with:\n" + tail
		}
		return providers.Status{State: providers.Failed, Message: msg}
	}
	return providers.Status{State: providers.Failed, Message: providers.ExitMessage(ps.ExitCode(), j.block.StderrPath())}
}

// Status implements providers.Provider. A local block is Running from its
// start until its leader exits, Completing while the rest of its group is
// cleaned up, then final.
func (p *Provider) Status(ctx context.Context, jobIDs []string) (map[string]providers.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]providers.Status, len(jobIDs))
	for _, id := range jobIDs {
		j := p.jobs[id]
		switch {
		case j == nil:
			out[id] = providers.Status{State: providers.Unknown, Message: "no block with job id " + id}
		case isClosed(j.done):
			out[id] = j.final
		case j.exited.Load():
			out[id] = providers.Status{State: providers.Completing}
		default:
			out[id] = providers.Status{State: providers.Running}
		}
	}
	return out, nil
}

// Cancel implements providers.Provider: every listed block's group gets
// SIGTERM at once, then SIGKILL after the grace, and Cancel returns once
// they are gone or ctx ends (the kill happens regardless).
func (p *Provider) Cancel(ctx context.Context, jobIDs []string) error {
	var unknown []string
	var waits []*job
	p.mu.Lock()
	for _, id := range jobIDs {
		if j := p.jobs[id]; j != nil {
			waits = append(waits, j)
		} else {
			unknown = append(unknown, id)
		}
	}
	p.mu.Unlock()
	for _, j := range waits {
		j.stop(errCancelled)
	}
	for _, j := range waits {
		select {
		case <-j.done:
		case <-ctx.Done():
			return fmt.Errorf("cancel: %w", context.Cause(ctx))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("cancel: no block with job id %v", unknown)
	}
	return nil
}

// Close ends every block this provider started (SIGTERM, SIGKILL after the
// grace) and returns once none of their processes is left. Later Submits
// fail. It is safe to call more than once.
func (p *Provider) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.stop(errClosed)
	p.wg.Wait()
	return nil
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
