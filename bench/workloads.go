package main

import (
	"fmt"
	"strconv"
)

// A workload is one row of the "Numbers to reach" of issue 2 (the kernel)
// or issue 4 (memoization): a script under workloads/ run as its own
// `starflow run` process, so every number includes process start, script
// compilation and shutdown. Each run has a folder of its own, and its memo
// store in it.
type workload struct {
	name   string
	script string // file under workloads/
	n      int    // tasks at full size
	quickN int    // tasks under -quick: enough to exercise the path, no more
	// runs maps -count to the number of measured runs: the 1M workload
	// takes seconds a run, the one-task one milliseconds and is noisy.
	runs func(count int) int
	// want is the script's whole stdout for n tasks; anything else means
	// the run was broken, however fast it was.
	want    func(n int) string
	targets []target
	// baseline: also time `/bin/bash -c true` one process per core, in the
	// same loop, and judge the workload by the ratio of the two rates.
	baseline bool
	// warm: before each measured run, run the script once, untimed, in
	// the same folder: the results it memoizes are what the measured run
	// finds.
	warm bool
	// folded: after the warm run, `starflow memo gc` the store, untimed,
	// so that the measured run finds the results in Badger, not in the
	// results log.
	folded bool
	// uncached names the same script without cache=True: it is timed too,
	// paired run for run, and the workload judged by the ratio of the
	// rates, which is what memoization costs.
	uncached string
	// storeSize: after each measured run, `starflow memo gc` the run's
	// store and measure its disk space per entry.
	storeSize bool
	// check: time `starflow check` of a generated n-line Parsl script
	// instead of running the script.
	check bool
}

// target is one "Numbers to reach" line, judged on one metric of a result.
type target struct {
	Metric string  `json:"metric"` // a field of result, by its JSON name
	Op     string  `json:"op"`     // ">=", "<" or "<="
	Limit  float64 `json:"limit"`
	Value  float64 `json:"value"`
	Met    bool    `json:"met"`
}

func same(count int) int { return count }

var workloads = []workload{
	{
		name: "noop_100k", script: "noop.star", n: 100_000, quickN: 1_000,
		runs: same, want: sumBelow,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 100_000}},
	},
	{
		name: "chain_10k", script: "chain.star", n: 10_000, quickN: 100,
		runs: same, want: itoa,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 50_000}},
	},
	{
		name: "pending_1m", script: "noop.star", n: 1_000_000, quickN: 10_000,
		runs: func(count int) int { return min(count, 3) }, want: sumBelow,
		targets: []target{
			{Metric: "seconds", Op: "<", Limit: 10},
			{Metric: "rss_per_task_bytes", Op: "<=", Limit: 1024},
		},
	},
	{
		name: "bash_true_2k", script: "bash_true.star", n: 2_000, quickN: 20,
		runs: same, want: itoa, baseline: true,
		targets: []target{{Metric: "ratio_to_baseline", Op: ">=", Limit: 0.80}},
	},
	{
		name: "startup_one_task", script: "one_task.star", n: 1, quickN: 1,
		runs: func(count int) int { return 4*count + 1 }, want: func(int) string { return "42" },
		targets: []target{{Metric: "ms", Op: "<=", Limit: 30}},
	},
	// Issue 4. A rerun of a finished sweep: every task is a hit.
	{
		name: "memo_hits_100k", script: "memo_noop.star", n: 100_000, quickN: 1_000,
		runs: same, want: sumBelow, warm: true,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 200_000}},
	},
	// The same rerun once `starflow memo gc` has folded the results log
	// into Badger, as an open past the log's bound does in a big project:
	// every lookup reads the database.
	{
		name: "memo_hits_folded_100k", script: "memo_noop.star", n: 100_000, quickN: 1_000,
		runs: same, want: sumBelow, warm: true, folded: true,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 200_000}},
	},
	// A first run with checkpoint_mode="task_exit" (the default): every
	// result is made durable before its future completes.
	{
		name: "memo_task_exit_100k", script: "memo_noop.star", n: 100_000, quickN: 1_000,
		runs: same, want: sumBelow, uncached: "noop.star",
		targets: []target{{Metric: "ratio_to_uncached", Op: ">=", Limit: 0.5}},
	},
	// The store a first run leaves, compacted: one small result per task.
	{
		name: "memo_bytes_per_entry", script: "memo_noop.star", n: 100_000, quickN: 1_000,
		runs: func(int) int { return 1 }, want: sumBelow, storeSize: true,
		targets: []target{{Metric: "store_bytes_per_entry", Op: "<=", Limit: 200}},
	},
}

// Issue 5: HighThroughputExecutor with a LocalProvider block.
var htexWorkloads = []workload{
	{
		name: "htex_noop_100k", script: "htex_noop.star", n: 100_000, quickN: 200,
		runs: func(count int) int { return min(count, 3) }, want: sumBelow,
		targets: []target{{Metric: "tasks_per_s", Op: ">=", Limit: 30_000}},
	},
	{
		name: "htex_one_task", script: "htex_one_task.star", n: 1, quickN: 1,
		runs: func(count int) int { return 2*count + 1 }, want: func(int) string { return "42" },
		targets: []target{{Metric: "ms", Op: "<=", Limit: 300}},
	},
}

// Issue 3: lowering costs nothing a user could notice.
var checkWorkloads = []workload{
	{
		name: "check_5000_lines", n: 5_000, quickN: 100, check: true,
		runs: func(count int) int { return 2*count + 1 }, want: func(int) string { return "" },
		targets: []target{{Metric: "ms", Op: "<", Limit: 100}},
	},
}

func init() { workloads = append(append(workloads, htexWorkloads...), checkWorkloads...) }

// sumBelow is what noop.star prints: the sum of 0..n-1.
func sumBelow(n int) string { return strconv.FormatInt(int64(n)*int64(n-1)/2, 10) }

func itoa(n int) string { return strconv.Itoa(n) }

// judge fills in each target's value from r and whether it was met.
func judge(r *result, targets []target) error {
	r.Met = true
	for _, t := range targets {
		v, err := r.metric(t.Metric)
		if err != nil {
			return err
		}
		t.Value = v
		switch t.Op {
		case ">=":
			t.Met = v >= t.Limit
		case "<":
			t.Met = v < t.Limit
		case "<=":
			t.Met = v <= t.Limit
		default:
			return fmt.Errorf("%s: target on %s: unknown op %q", r.Name, t.Metric, t.Op)
		}
		r.Met = r.Met && t.Met
		r.Targets = append(r.Targets, t)
	}
	return nil
}

func (r *result) metric(name string) (float64, error) {
	switch name {
	case "tasks_per_s":
		return r.TasksPerS, nil
	case "seconds":
		return r.Seconds, nil
	case "ms":
		return r.Seconds * 1000, nil
	case "rss_per_task_bytes":
		return r.RSSPerTaskBytes, nil
	case "ratio_to_baseline":
		return r.RatioToBaseline, nil
	case "ratio_to_uncached":
		return r.RatioToUncached, nil
	case "store_bytes_per_entry":
		return r.StoreBytesPerEntry, nil
	}
	return 0, fmt.Errorf("%s: no metric %q", r.Name, name)
}
