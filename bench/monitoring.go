package main

// Issue 7: the monitoring database costs the no-op benchmark at most a
// fifth of its throughput. The row named monitoring_noop_100k_uncached is
// noop.star, monitoring off, timed run for run against it (the pairing
// memo_task_exit_100k uses for its cost); ratio_to_uncached is on/off.
// docs/monitoring.md ("Cost and safety") says what holds it below that.
var monitoringWorkloads = []workload{
	{
		name: "monitoring_noop_100k", script: "noop_monitoring.star", n: 100_000, quickN: 1_000,
		runs: same, want: sumBelow, uncached: "noop.star",
		targets: []target{{Metric: "ratio_to_uncached", Op: ">=", Limit: 0.80}},
	},
}

func init() { workloads = append(workloads, monitoringWorkloads...) }
