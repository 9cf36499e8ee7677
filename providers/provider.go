// Package providers holds the contract between an executor and the
// resource managers that start its worker blocks: a block is one job (a
// process group here, an sbatch job on Slurm) running the launcher-wrapped
// worker command. Implementations live in subpackages (local/, slurm/);
// launchers/ holds Parsl's launchers. This package imports nothing of
// starflow above it, so executors can depend on it and never the reverse.
package providers

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// Provider starts, watches and ends blocks. Every method may be called
// from any goroutine. Job ids are the provider's own (a pid, a Slurm job
// id); the executor maps them to its block numbers.
//
// Providers that own processes of their own (LocalProvider) also implement
// io.Closer: Close ends every block they started and returns once nothing
// of them is left. An executor calls it at shutdown when it is there.
type Provider interface {
	// Submit writes the block's script and starts (or queues) it. The
	// context bounds the submission only, never the block's life.
	Submit(ctx context.Context, b Block) (jobID string, err error)
	// Status reports every id asked for, in one call whatever their number
	// (one squeue, not one per block). A job the provider cannot account
	// for right now is Unknown with a Message saying why: a failed or hung
	// status command never turns into "done". err is non-nil only when the
	// whole call failed; the map then says Unknown for every id.
	Status(ctx context.Context, jobIDs []string) (map[string]Status, error)
	// Cancel ends the jobs, in one call for many (one scancel). Ids of
	// jobs that already ended are ignored.
	Cancel(ctx context.Context, jobIDs []string) error
	// Settings returns the block settings the provider was made with; the
	// scaling strategy reads init/min/max blocks and parallelism there.
	Settings() Settings
}

// Launcher wraps a worker command into the lines that start
// tasksPerNode copies of it on each of nodesPerBlock nodes (Parsl's
// Launcher.__call__). The provider applies its launcher; the executor
// hands it the bare worker command.
type Launcher interface {
	Wrap(command string, tasksPerNode, nodesPerBlock int) string
}

// Block is one request for resources, as the executor describes it.
type Block struct {
	// ID is the executor's block number. It names the block's files and
	// is exported to the worker as PARSL_WORKER_BLOCK_ID.
	ID int
	// Label is the executor's label; with ID it names the job and its
	// files: <label>.block-<id>.sh, .stdout, .stderr.
	Label string
	// Command is the worker command before the launcher wraps it. It runs
	// with the submit_scripts folder as its working directory, so the
	// paths it names must be absolute.
	Command string
	// TasksPerNode is the launcher's tasks_per_node: copies of Command per
	// node. 0 means 1 (what Parsl's HTEX asks for).
	TasksPerNode int
	// Dir is the run's submit_scripts folder (runinfo/NNN/submit_scripts);
	// it is created if missing.
	Dir string
}

// Name is the block's job name: <label>.block-<id>.
func (b Block) Name() string {
	label := b.Label
	if label == "" {
		label = "starflow"
	}
	return fmt.Sprintf("%s.block-%d", label, b.ID)
}

// ScriptPath is where the block's submit script is written.
func (b Block) ScriptPath() string { return filepath.Join(b.Dir, b.Name()+".sh") }

// StdoutPath receives the block's standard output.
func (b Block) StdoutPath() string { return filepath.Join(b.Dir, b.Name()+".stdout") }

// StderrPath receives the block's standard error; a failed block's
// Status quotes its tail.
func (b Block) StderrPath() string { return filepath.Join(b.Dir, b.Name()+".stderr") }

// Tasks is TasksPerNode with its default applied.
func (b Block) Tasks() int { return max(b.TasksPerNode, 1) }

// Status is what a provider knows about one job.
type Status struct {
	State JobState
	// Message says why a job ended or why its state is unknown, e.g. the
	// tail of a failed block's stderr. Empty for healthy jobs.
	Message string
	// Gone says the scheduler no longer lists the job and nothing (no
	// accounting) can say how it ended; State is then Unknown. The job has
	// ended: the executor, which knows whether the block's workers said
	// goodbye, resolves it to Completed or Lost (scaling.Blocks.Resolve).
	Gone bool
}

func (s Status) String() string {
	if s.Message == "" {
		return s.State.String()
	}
	return s.State.String() + ": " + s.Message
}

// TransientError marks a submission failure that says nothing about the
// request itself: the scheduler did not answer in time or was briefly
// unreachable. The scaling strategy retries those with its backoff
// before it gives up on the tasks; a refusal (unknown partition, bad
// account) fails them at once, as in Parsl.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsTransient reports whether err is, or wraps, a *TransientError.
func IsTransient(err error) bool {
	var t *TransientError
	return errors.As(err, &t)
}
