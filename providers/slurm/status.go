package slurm

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/starflow-hpc/starflow/providers"
)

// Status implements providers.Provider with one squeue for all ids. A job
// squeue no longer lists keeps the ending seen before; otherwise sacct is
// asked (one call for all such jobs) when the cluster has accounting, and
// without it the job is Unknown: Slurm forgot it, and "gone" is not
// "completed". A failed or hung squeue makes every id Unknown.
func (p *Provider) Status(ctx context.Context, jobIDs []string) (map[string]providers.Status, error) {
	out := make(map[string]providers.Status, len(jobIDs))
	if len(jobIDs) == 0 {
		return out, nil
	}
	stdout, stderr, err := p.command(ctx, "squeue",
		p.clusterArgs("--noheader", "--states=all", "--format="+squeueFormat, "--jobs="+strings.Join(jobIDs, ","))...)
	if err != nil && !strings.Contains(stderr, invalidJobID) {
		for _, id := range jobIDs {
			out[id] = providers.Status{State: providers.Unknown, Message: err.Error()}
		}
		return out, fmt.Errorf("status: %w", err)
	}
	// With one id, squeue answers "Invalid job id" once the job has left
	// its table; with several it lists those it still has. --states=all,
	// because without it squeue leaves out a single job that has ended,
	// which would then look gone.
	listed := parseSqueue(stdout)

	p.mu.Lock()
	var gone []string
	for _, id := range jobIDs {
		if l, ok := listed[id]; ok {
			out[id] = p.describe(id, squeueStatus(l))
			continue
		}
		switch final, ok := p.final[id]; {
		case ok:
			out[id] = final
		case p.cancelled[id]:
			// scancel'd, and gone before a poll saw CA.
			out[id] = p.describe(id, providers.Status{State: providers.Cancelled, Message: "cancelled by starflow"})
		default:
			gone = append(gone, id)
		}
	}
	noSacct := p.noSacct
	p.mu.Unlock()

	if len(gone) > 0 {
		for id, st := range p.resolveGone(ctx, gone, noSacct) {
			out[id] = st
		}
	}
	return out, nil
}

// describe records an ending and adds the tail of the block's stderr to
// endings that are the block's own fault. Called with p.mu held.
func (p *Provider) describe(id string, st providers.Status) providers.Status {
	if !st.State.Terminal() {
		return st
	}
	switch st.State {
	case providers.Failed, providers.OutOfMemory, providers.Timeout, providers.NodeFail:
		if b, ok := p.blocks[id]; ok {
			if tail := providers.Tail(b.StderrPath(), 10); tail != "" {
				st.Message = strings.TrimPrefix(st.Message+"; ", "; ") + b.StderrPath() + " ends with:\n" + tail
			}
		}
	}
	p.final[id] = st
	p.cfg.Jobs.drop(id)
	return st
}

// resolveGone asks sacct how the jobs that left squeue ended. Without
// accounting, or when sacct does not know a job, the job is Gone (it has
// ended, how is for the executor to judge) with a message saying why and
// the tail of the block's stderr. When sacct itself fails the job stays
// plainly Unknown: the next poll asks again.
func (p *Provider) resolveGone(ctx context.Context, ids []string, noSacct bool) map[string]providers.Status {
	out := make(map[string]providers.Status, len(ids))
	unknown := func(why string, gone bool) {
		for _, id := range ids {
			if _, ok := out[id]; ok {
				continue
			}
			st := providers.Status{State: providers.Unknown, Message: "job left squeue; " + why, Gone: gone}
			if gone {
				st.Message += p.stderrTail(id)
				p.cfg.Jobs.drop(id)
			}
			out[id] = st
		}
	}
	const noAccounting = "the cluster has no accounting (sacct) to say how it ended"
	if noSacct {
		unknown(noAccounting, true)
		return out
	}
	stdout, stderr, err := p.command(ctx, "sacct",
		p.clusterArgs("-X", "--noheader", "--parsable2", "--format=JobID,State", "--jobs="+strings.Join(ids, ","))...)
	if err != nil {
		// Neither answer will change by asking again every poll.
		if strings.Contains(stderr, errNoAccounting.Error()) || errors.Is(err, exec.ErrNotFound) {
			p.mu.Lock()
			p.noSacct = true
			p.mu.Unlock()
			p.log.Info("no accounting on this cluster: jobs that leave squeue are judged by their workers' goodbye", "error", err)
			unknown(noAccounting, true)
			return out
		}
		unknown(err.Error(), false)
		return out
	}
	known := parseSacct(stdout)
	p.mu.Lock()
	for _, id := range ids {
		if st, ok := known[id]; ok {
			out[id] = p.describe(id, st)
		}
	}
	p.mu.Unlock()
	unknown("sacct does not know it either", true)
	return out
}

// stderrTail is "; <path> ends with:\n<tail>" for the job's block, or ""
// when there is nothing to quote.
func (p *Provider) stderrTail(id string) string {
	p.mu.Lock()
	b, ok := p.blocks[id]
	p.mu.Unlock()
	if !ok {
		return ""
	}
	if tail := providers.Tail(b.StderrPath(), 10); tail != "" {
		return "; " + b.StderrPath() + " ends with:\n" + tail
	}
	return ""
}

// Cancel implements providers.Provider with one scancel for all ids.
// scancel ignores jobs that already ended.
func (p *Provider) Cancel(ctx context.Context, jobIDs []string) error {
	if len(jobIDs) == 0 {
		return nil
	}
	p.mu.Lock()
	for _, id := range jobIDs {
		p.cancelled[id] = true
	}
	p.mu.Unlock()
	_, _, err := p.command(ctx, "scancel", p.clusterArgs(jobIDs...)...)
	if err != nil {
		p.mu.Lock()
		for _, id := range jobIDs {
			delete(p.cancelled, id)
		}
		p.mu.Unlock()
		return fmt.Errorf("cancel %s: %w", strings.Join(jobIDs, " "), err)
	}
	p.cfg.Jobs.drop(jobIDs...)
	p.log.Info("blocks cancelled", "job_ids", strings.Join(jobIDs, ","))
	return nil
}
