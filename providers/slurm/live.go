package slurm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// live holds every job this process submitted and has not seen end, by
// id, with the --clusters it was submitted to. It is process-wide on
// purpose: when starflow must exit at once (a second Ctrl-C), no executor
// gets to shut down, yet its jobs must not outlive it; CancelLive reaches
// them all without a handle on any provider.
var live = struct {
	sync.Mutex
	jobs map[string]string
}{jobs: make(map[string]string)}

func liveAdd(id, clusters string) {
	live.Lock()
	live.jobs[id] = clusters
	live.Unlock()
}

func liveDrop(ids ...string) {
	live.Lock()
	for _, id := range ids {
		delete(live.jobs, id)
	}
	live.Unlock()
}

// LiveJobs lists the jobs this process submitted and has not seen end.
func LiveJobs() []string {
	live.Lock()
	defer live.Unlock()
	ids := make([]string, 0, len(live.jobs))
	for id := range live.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// CancelLive scancels every job this process submitted and has not seen
// end, one scancel per cluster, each bounded by ctx. It is for a process
// about to exit without shutting its executors down; they cancel their
// own blocks otherwise.
func CancelLive(ctx context.Context, run Runner) error {
	if run == nil {
		run = ExecRunner{}
	}
	live.Lock()
	byCluster := map[string][]string{}
	for id, c := range live.jobs {
		byCluster[c] = append(byCluster[c], id)
	}
	live.Unlock()
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
		liveDrop(ids...)
	}
	return errors.Join(errs...)
}
