package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Issue 6: HighThroughputExecutor with a SlurmProvider on the real cluster
// of testing/slurm/up.sh. Neither number is a whole-process wall time, so
// each row has its own measurement (customMeasures) and its own metric.
var slurmWorkloads = []workload{
	// Start of `starflow run` to its first result with one block, over
	// `sbatch --wait` of a trivial job timed in the same loop: what
	// starflow adds to the scheduler's own latency.
	{
		name: "slurm_first_result", script: "slurm_one_task.star", n: 1, quickN: 1,
		runs: same, want: func(int) string { return "42" },
		targets: []target{{Metric: "ratio_to_sbatch_wait", Op: "<=", Limit: 1.5}},
	},
	// N no-op tasks over 3 single-node blocks, from the moment a worker
	// of each block has connected to the last result.
	{
		name: "slurm_noop_10k", script: "slurm_noop.star", n: 10_000, quickN: 200,
		runs: func(count int) int { return min(count, 3) }, want: sumBelow,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 20_000}},
	},
}

// slurmRunLimit bounds one run: a cluster that never starts the block
// fails the benchmark instead of hanging it.
const slurmRunLimit = 5 * time.Minute

func init() {
	// Without Slurm installed there is nothing to measure these against;
	// a cluster installed but not started is an error that says so.
	if _, err := exec.LookPath("sbatch"); err != nil {
		return
	}
	workloads = append(workloads, slurmWorkloads...)
	customMeasures["slurm_first_result"] = (*runner).firstResult
	customMeasures["slurm_noop_10k"] = (*runner).slurmThroughput
}

// firstResult times each run of w to its first line of output, paired
// run for run with `sbatch --wait` of a trivial job, and judges the ratio
// of the medians.
func (r *runner) firstResult(w workload, n, runs int, warmUp bool) ([]result, error) {
	if err := slurmUp(); err != nil {
		return nil, err
	}
	if warmUp {
		if _, _, err := r.untilFirstLine(w, n); err != nil {
			return nil, err
		}
	}
	var firsts, waits []time.Duration
	var rss []int64
	for i := range runs {
		d, err := sbatchWait()
		if err != nil {
			return nil, err
		}
		waits = append(waits, d)
		first, peak, err := r.untilFirstLine(w, n)
		if err != nil {
			return nil, err
		}
		firsts, rss = append(firsts, first), append(rss, peak)
		fmt.Fprintf(r.log, "%s: run %d/%d: first result after %.3fs, sbatch --wait %.3fs (ratio %.2f)\n",
			w.name, i+1, runs, first.Seconds(), d.Seconds(), first.Seconds()/d.Seconds())
	}
	base := summarise("sbatch_wait_baseline", 1, waits)
	res := summarise(w.name, n, firsts)
	res.PeakRSSBytes = median(rss)
	res.RSSPerTaskBytes = float64(res.PeakRSSBytes) / float64(n)
	res.SbatchWaitSeconds = base.Seconds
	res.RatioToSbatchWait = res.Seconds / base.Seconds
	// Rounded: the table prints a metric it does not know as a bare float.
	judgeOwn(&res, w.targets, map[string]float64{"ratio_to_sbatch_wait": math.Round(res.RatioToSbatchWait*1000) / 1000})
	return []result{base, res}, nil
}

// slurmCommand is `starflow run` of w's script in a scratch folder of its
// own, bounded by slurmRunLimit; done removes the folder.
func (r *runner) slurmCommand(w workload, n int) (cmd *exec.Cmd, done func(), err error) {
	dir, err := os.MkdirTemp(r.scratch, w.name+"-")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), slurmRunLimit)
	cmd = exec.CommandContext(ctx, r.bin, "run", "--no-progress", "--memo-dir", memoDir(dir),
		filepath.Join(r.scripts, w.script), strconv.Itoa(n))
	cmd.Dir = dir
	return cmd, func() { cancel(); os.RemoveAll(dir) }, nil
}

// untilFirstLine runs w's script and returns the time from its start to
// its first line of output, which must be w.want(n), and its peak RSS.
func (r *runner) untilFirstLine(w workload, n int) (time.Duration, int64, error) {
	cmd, done, err := r.slurmCommand(w, n)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(out)
	var first time.Duration
	var line string
	if sc.Scan() {
		first, line = time.Since(start), sc.Text()
	}
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%s (n=%d): %w\n%s", w.name, n, err, tail(stderr.String()))
	}
	if want := w.want(n); line != want {
		return 0, 0, fmt.Errorf("%s (n=%d): first line %q, want %q\n%s", w.name, n, line, want, tail(stderr.String()))
	}
	return first, peakRSS(cmd.ProcessState), nil
}

// slurmThroughput runs w's script, which prints its answer and then the
// seconds it took from all blocks connected to the last result, and
// reduces the runs to the median of those seconds.
func (r *runner) slurmThroughput(w workload, n, runs int, warmUp bool) ([]result, error) {
	if err := slurmUp(); err != nil {
		return nil, err
	}
	if warmUp {
		if _, _, err := r.timedByScript(w, w.quickN); err != nil {
			return nil, err
		}
	}
	var took []time.Duration
	var rss []int64
	for i := range runs {
		d, peak, err := r.timedByScript(w, n)
		if err != nil {
			return nil, err
		}
		took, rss = append(took, d), append(rss, peak)
		fmt.Fprintf(r.log, "%s: run %d/%d: %.3fs once connected (%.0f tasks/s), peak RSS %s\n",
			w.name, i+1, runs, d.Seconds(), float64(n)/d.Seconds(), bytesIEC(peak))
	}
	res := summarise(w.name, n, took)
	res.PeakRSSBytes = median(rss)
	res.RSSPerTaskBytes = float64(res.PeakRSSBytes) / float64(n)
	judgeOwn(&res, w.targets, map[string]float64{"tasks_per_s": res.TasksPerS})
	return []result{res}, nil
}

// timedByScript runs w's script and returns the seconds it printed after
// its answer, and its peak RSS.
func (r *runner) timedByScript(w workload, n int) (time.Duration, int64, error) {
	cmd, done, err := r.slurmCommand(w, n)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s (n=%d): %w\n%s", w.name, n, err, tail(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || lines[0] != w.want(n) {
		return 0, 0, fmt.Errorf("%s (n=%d): script printed %q, want %q and the seconds taken\n%s", w.name, n, stdout.String(), w.want(n), tail(stderr.String()))
	}
	secs, err := strconv.ParseFloat(lines[1], 64)
	if err != nil || secs <= 0 {
		return 0, 0, fmt.Errorf("%s (n=%d): %q is not the seconds taken", w.name, n, lines[1])
	}
	return time.Duration(secs * float64(time.Second)), peakRSS(cmd.ProcessState), nil
}

// sbatchWait times `sbatch --wait` of a job that does nothing, in the
// partition the workloads use.
func sbatchWait() (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), slurmRunLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sbatch", "--wait", "--quiet", "--partition=debug", "--nodes=1",
		"--job-name=starflow-bench-baseline", "--output=/dev/null", "--wrap=true")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("baseline sbatch --wait: %w: %s", err, out)
	}
	return time.Since(start), nil
}

// slurmUp fails with a clear message when no Slurm controller answers.
func slurmUp() error {
	if out, err := exec.Command("sinfo", "--noheader").CombinedOutput(); err != nil {
		return fmt.Errorf("the Slurm rows need a running cluster (bash testing/slurm/up.sh): sinfo: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// judgeOwn judges targets on metrics the shared judge does not know,
// given by value.
func judgeOwn(r *result, targets []target, values map[string]float64) {
	r.Met = true
	for _, t := range targets {
		t.Value = values[t.Metric]
		switch t.Op {
		case ">=":
			t.Met = t.Value >= t.Limit
		case "<=":
			t.Met = t.Value <= t.Limit
		case "<":
			t.Met = t.Value < t.Limit
		}
		r.Met = r.Met && t.Met
		r.Targets = append(r.Targets, t)
	}
}
