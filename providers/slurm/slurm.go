// Package slurm is Parsl's SlurmProvider: each block is one sbatch job
// whose script is written to the run's submit_scripts folder, readable and
// rerunnable by hand. Every scheduler command goes through a Runner
// bounded by cmd_timeout; one squeue answers for all blocks, and a job
// that left squeue is never taken for completed.
package slurm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
)

// Config is SlurmProvider's parameters, under Parsl's names.
type Config struct {
	// Settings carries nodes_per_block, cores_per_node, mem_per_node (GB),
	// init_blocks, min_blocks, max_blocks, parallelism, walltime,
	// worker_init, cmd_timeout and launcher.
	providers.Settings
	Partition  string // partition; "" is the cluster's default
	Account    string // account
	QOS        string // qos
	Constraint string // constraint
	Clusters   string // clusters: also passed to squeue, sacct and scancel
	// Exclusive is exclusive: the block's nodes are not shared with other
	// jobs. Parsl's default is true.
	Exclusive bool
	// SchedulerOptions is scheduler_options: #SBATCH lines written
	// verbatim after starflow's own.
	SchedulerOptions string
	// RegexJobID is regex_job_id: finds the id in sbatch's answer through
	// a group named id. "" is DefaultRegexJobID.
	RegexJobID string
	// MoveFiles is move_files. Parsl uses it to copy scripts over remote
	// channels; scripts here are written where sbatch reads them, so it is
	// accepted and unused.
	MoveFiles *bool
	// Runner runs the scheduler commands; nil is ExecRunner.
	Runner Runner
	// Jobs, when set, is told of every job submitted and seen ending, so
	// the host can cancel them all when it must exit at once.
	Jobs   *Jobs
	Logger hclog.Logger
}

// Defaults returns Parsl's SlurmProvider defaults.
func Defaults() Config {
	return Config{
		Settings: providers.Settings{
			NodesPerBlock: 1,
			InitBlocks:    1,
			MinBlocks:     0,
			MaxBlocks:     1,
			Parallelism:   1,
			Walltime:      10 * time.Minute,
			CmdTimeout:    10 * time.Second,
			Launcher:      launchers.NewSingleNode(),
		},
		Exclusive:  true,
		RegexJobID: DefaultRegexJobID,
	}
}

// Provider submits, watches and cancels blocks as Slurm jobs.
type Provider struct {
	cfg   Config
	log   hclog.Logger
	run   Runner
	jobID *regexp.Regexp

	mu sync.Mutex
	// blocks remembers each job's block, to quote its stderr when it
	// fails. final keeps an ending once seen in squeue or sacct: the job
	// leaves squeue after MinJobAge, its ending must not. cancelled holds
	// jobs scancel was asked to end, so that one gone from squeue without
	// accounting is known to be Cancelled rather than Unknown.
	blocks    map[string]providers.Block
	final     map[string]providers.Status
	cancelled map[string]bool
	// noSacct is set once sacct said accounting is disabled: asking again
	// every poll would only double the scheduler load.
	noSacct bool

	// submits counts sbatch calls in flight, for Close to wait on.
	submits sync.WaitGroup
}

var _ providers.Provider = (*Provider)(nil)

// New checks cfg and returns a provider. A nil Launcher is Parsl's
// default SingleNodeLauncher.
func New(cfg Config) (*Provider, error) {
	if cfg.Launcher == nil {
		cfg.Launcher = launchers.NewSingleNode()
	}
	if cfg.RegexJobID == "" {
		cfg.RegexJobID = DefaultRegexJobID
	}
	errs := []error{cfg.Validate()}
	re, err := compileJobID(cfg.RegexJobID)
	errs = append(errs, err)
	for _, o := range []struct{ name, value string }{
		{"partition", cfg.Partition}, {"account", cfg.Account}, {"qos", cfg.QOS},
		{"constraint", cfg.Constraint}, {"clusters", cfg.Clusters},
	} {
		// Each becomes one #SBATCH line; a space or a newline would cut
		// it or smuggle in another option.
		if strings.ContainsAny(o.value, " \t\r\n") {
			errs = append(errs, fmt.Errorf("%s: got %q, want a Slurm name without spaces or newlines", o.name, o.value))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("SlurmProvider: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	run := cfg.Runner
	if run == nil {
		run = ExecRunner{}
	}
	return &Provider{
		cfg: cfg, log: log.Named("slurm"), run: run, jobID: re,
		blocks: make(map[string]providers.Block), final: make(map[string]providers.Status),
		cancelled: make(map[string]bool),
	}, nil
}

// Settings implements providers.Provider.
func (p *Provider) Settings() providers.Settings { return p.cfg.Settings }

// command runs one scheduler command bounded by cmd_timeout. A failure
// quotes the command's stderr, which is where Slurm says why.
func (p *Provider) command(ctx context.Context, name string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.cfg.CmdTimeout,
		fmt.Errorf("%w (%v)", ErrCmdTimeout, p.cfg.CmdTimeout))
	defer cancel()
	stdout, stderr, err := p.run.Run(ctx, name, args, nil)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			err = cause
		}
		if msg := strings.TrimSpace(string(stderr)); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return string(stdout), string(stderr), fmt.Errorf("%s: %w", name, err)
	}
	return string(stdout), string(stderr), nil
}

// ErrCmdTimeout is the cause of a scheduler command killed after
// cmd_timeout: the scheduler is slow or hung, which says nothing about the
// jobs.
var ErrCmdTimeout = errors.New("did not answer within cmd_timeout")

// clusterArgs adds --clusters to the commands that read or change jobs,
// so they look where sbatch put them.
func (p *Provider) clusterArgs(args ...string) []string {
	if p.cfg.Clusters != "" {
		args = append([]string{"--clusters=" + p.cfg.Clusters}, args...)
	}
	return args
}

// Submit implements providers.Provider: it writes the block's script to
// <Dir>/<label>.block-<id>.submit and runs sbatch on it. An sbatch that
// refuses the job gives an error quoting Slurm's message; the executor's
// scaling backs off after failed launches, so this does not retry.
func (p *Provider) Submit(ctx context.Context, b providers.Block) (string, error) {
	p.submits.Add(1)
	defer p.submits.Done()
	id, err := p.submit(ctx, b)
	if err != nil {
		return "", fmt.Errorf("submit block %d: %w", b.ID, err)
	}
	return id, nil
}

func (p *Provider) submit(ctx context.Context, b providers.Block) (string, error) {
	if b.Dir == "" {
		return "", errors.New("no submit_scripts folder (Block.Dir)")
	}
	// sbatch resolves the #SBATCH paths on the compute node, where
	// starflow's working directory means nothing.
	dir, err := filepath.Abs(b.Dir)
	if err != nil {
		return "", err
	}
	b.Dir = dir
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return "", err
	}
	path := ScriptPath(b)
	// 0600: the worker command may name the run's secrets.
	if err := os.WriteFile(path, []byte(p.cfg.Script(b)), 0o600); err != nil {
		return "", err
	}
	// sbatch is bounded by cmd_timeout only, never by the run: killed
	// half-way by a Ctrl-C it may still have queued the job, and then
	// nobody would learn the id to cancel it.
	stdout, _, err := p.command(context.WithoutCancel(ctx), "sbatch", p.clusterArgs(path)...)
	if err != nil {
		if errors.Is(err, ErrCmdTimeout) || ctx.Err() != nil {
			return "", &providers.TransientError{Err: fmt.Errorf("%w (the job may still have been queued: look for %s in squeue)", err, b.Name())}
		}
		if transientSbatch(err.Error()) {
			return "", &providers.TransientError{Err: err}
		}
		return "", err
	}
	id, err := parseJobID(p.jobID, stdout)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.blocks[id] = b
	p.mu.Unlock()
	p.cfg.Jobs.add(id, p.cfg.Clusters)
	p.log.Info("block submitted", "block", b.Name(), "job_id", id, "script", path)
	return id, nil
}

// Close implements io.Closer: it waits for sbatch calls in flight (each
// bounded by cmd_timeout) and cancels, in one scancel, every job this
// provider submitted that was neither cancelled nor seen ending. The
// executor cancels the blocks it knows first; this catches the ones whose
// sbatch answered after the run was told to stop.
func (p *Provider) Close() error {
	p.submits.Wait()
	p.mu.Lock()
	var left []string
	for id := range p.blocks {
		if _, ended := p.final[id]; !ended && !p.cancelled[id] {
			left = append(left, id)
		}
	}
	p.mu.Unlock()
	if len(left) == 0 {
		return nil
	}
	sort.Strings(left)
	p.log.Info("cancelling blocks submitted while the run was stopping", "job_ids", strings.Join(left, ","))
	return p.Cancel(context.Background(), left)
}

// transientSbatch reports whether sbatch's complaint is about reaching
// the controller rather than about the job: the messages Slurm prints
// when slurmctld is busy, restarting or unreachable.
func transientSbatch(msg string) bool {
	for _, m := range []string{
		"Socket timed out", "Unable to contact slurm controller", "temporarily unavailable",
		"Connection refused", "Slurm temporarily unable", "Transient",
	} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}
