package slurm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Jobs holds every job a process's providers submitted and have not seen
// end, by id, with the --clusters it was submitted to. The host makes one
// (cmd/starflow's `run`) and hands it to every SlurmProvider through
// Config.Jobs: when it must exit at once (a second Ctrl-C), no executor
// gets to shut down, yet their jobs must not outlive it, and CancelAll
// reaches them without a handle on any provider.
type Jobs struct {
	mu   sync.Mutex
	jobs map[string]string
}

// NewJobs returns an empty registry.
func NewJobs() *Jobs { return &Jobs{jobs: make(map[string]string)} }

// add and drop are no-ops on a nil registry: a provider made without one
// (tests, tools) tracks nothing beyond itself.
func (j *Jobs) add(id, clusters string) {
	if j == nil {
		return
	}
	j.mu.Lock()
	j.jobs[id] = clusters
	j.mu.Unlock()
}

func (j *Jobs) drop(ids ...string) {
	if j == nil {
		return
	}
	j.mu.Lock()
	for _, id := range ids {
		delete(j.jobs, id)
	}
	j.mu.Unlock()
}

// Live lists the jobs submitted and not seen to end, sorted.
func (j *Jobs) Live() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	ids := make([]string, 0, len(j.jobs))
	for id := range j.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// CancelAll scancels every live job, one scancel per cluster, each
// bounded by ctx. It is for a process about to exit without shutting its
// executors down; they cancel their own blocks otherwise. A nil run is
// ExecRunner.
func (j *Jobs) CancelAll(ctx context.Context, run Runner) error {
	if run == nil {
		run = ExecRunner{}
	}
	j.mu.Lock()
	byCluster := map[string][]string{}
	for id, c := range j.jobs {
		byCluster[c] = append(byCluster[c], id)
	}
	j.mu.Unlock()
	var errs []error
	for c, ids := range byCluster {
		sort.Strings(ids)
		args := ids
		if c != "" {
			args = append([]string{"--clusters=" + c}, ids...)
		}
		if _, stderr, err := run.Run(ctx, "scancel", args, nil); err != nil {
			errs = append(errs, fmt.Errorf("scancel %v: %w: %s", ids, err, stderr))
			continue
		}
		j.drop(ids...)
	}
	return errors.Join(errs...)
}
