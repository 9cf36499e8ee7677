package main

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildStarflow builds the binary under test into a temporary folder.
func buildStarflow(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds starflow and runs it as child processes")
	}
	bin := filepath.Join(t.TempDir(), "starflow")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/starflow-hpc/starflow/cmd/starflow").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestQuickBench runs every workload once at its small size and checks the
// numbers are sane: present, positive and consistent. It asserts no timing.
func TestQuickBench(t *testing.T) {
	t.Parallel()
	bin := buildStarflow(t)
	var log strings.Builder
	results, err := benchmark(options{bin: bin, count: 1, quick: true, log: &log})
	if err != nil {
		t.Fatal(err)
	}

	byName := map[string]result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	for _, w := range workloads {
		r, ok := byName[w.name]
		if !ok {
			t.Errorf("no result for %s", w.name)
			continue
		}
		if r.N != w.quickN || r.Runs != 1 || len(r.AllSeconds) != 1 {
			t.Errorf("%s: n=%d runs=%d all_seconds=%v, want n=%d and one run", w.name, r.N, r.Runs, r.AllSeconds, w.quickN)
		}
		if r.Seconds <= 0 || r.Seconds != r.AllSeconds[0] {
			t.Errorf("%s: seconds=%v, all_seconds=%v", w.name, r.Seconds, r.AllSeconds)
		}
		if got := float64(r.N) / r.Seconds; math.Abs(r.TasksPerS-got) > 1e-6*got {
			t.Errorf("%s: tasks_per_s=%v, want N/seconds=%v", w.name, r.TasksPerS, got)
		}
		// A Go binary cannot run in under a megabyte, nor should a quick
		// run need gigabytes: either means the RSS was read wrongly.
		if r.PeakRSSBytes < 1<<20 || r.PeakRSSBytes > 4<<30 {
			t.Errorf("%s: peak_rss_bytes=%d", w.name, r.PeakRSSBytes)
		}
		if len(r.Targets) != len(w.targets) {
			t.Errorf("%s: %d targets judged, want %d", w.name, len(r.Targets), len(w.targets))
		}
		for _, tg := range r.Targets {
			if tg.Value <= 0 {
				t.Errorf("%s: target %s has value %v", w.name, tg.Metric, tg.Value)
			}
		}
	}
	bash, base := byName["bash_true_2k"], byName["bash_true_baseline"]
	if base.TasksPerS <= 0 || bash.BaselineTasksPerS != base.TasksPerS {
		t.Errorf("baseline %v tasks/s, bash_true_2k recorded %v", base.TasksPerS, bash.BaselineTasksPerS)
	}
	if want := bash.TasksPerS / base.TasksPerS; bash.RatioToBaseline != want {
		t.Errorf("ratio_to_baseline=%v, want %v", bash.RatioToBaseline, want)
	}
	cached, uncached := byName["memo_task_exit_100k"], byName["memo_task_exit_100k_uncached"]
	if uncached.TasksPerS <= 0 || cached.UncachedTasksPerS != uncached.TasksPerS {
		t.Errorf("uncached %v tasks/s, memo_task_exit_100k recorded %v", uncached.TasksPerS, cached.UncachedTasksPerS)
	}
	if want := cached.TasksPerS / uncached.TasksPerS; cached.RatioToUncached != want {
		t.Errorf("ratio_to_uncached=%v, want %v", cached.RatioToUncached, want)
	}
	// An entry holds at least its 32-byte key; a small result in
	// kilobytes would mean the store was measured wrongly.
	if size := byName["memo_bytes_per_entry"].StoreBytesPerEntry; size < 32 || size > 4096 {
		t.Errorf("store_bytes_per_entry=%v", size)
	}

	var table strings.Builder
	printTable(&table, results, true)
	for _, r := range results {
		if !strings.Contains(table.String(), "\n"+r.Name+" ") {
			t.Errorf("table has no row for %s:\n%s", r.Name, table.String())
		}
	}

	path := filepath.Join(t.TempDir(), "results.json")
	if err := writeJSON(path, results); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, key := range []string{"name", "n", "seconds", "tasks_per_s", "peak_rss_bytes"} {
			if _, ok := row[key]; !ok {
				t.Errorf("results.json: %v has no %q", row["name"], key)
			}
		}
	}
}

// TestWrongOutputIsAnError: a run that prints the wrong answer must fail
// the benchmark, not count as a fast run.
func TestWrongOutputIsAnError(t *testing.T) {
	t.Parallel()
	bin := buildStarflow(t)
	dir := t.TempDir()
	if err := os.CopyFS(dir, scripts); err != nil {
		t.Fatal(err)
	}
	r := &runner{bin: bin, scripts: filepath.Join(dir, "workloads"), scratch: dir}
	w := workload{name: "wrong", script: "one_task.star", want: func(int) string { return "43" }}
	if _, err := r.once(w, 1); err == nil || !strings.Contains(err.Error(), `printed "42", want "43"`) {
		t.Errorf("once = %v, want a wrong-output error", err)
	}
	w = workload{name: "missing", script: "no_such.star", want: itoa}
	if _, err := r.once(w, 1); err == nil {
		t.Error("once of a missing script succeeded")
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{7}, 7},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // mean of 2 and 3, in integer units
		{[]time.Duration{100, 1, 2, 3, 1000}, 3},
	} {
		in := append([]time.Duration(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("median reordered its input: %v", tc.in)
			}
		}
	}
}

func TestOnly(t *testing.T) {
	t.Parallel()
	ws, err := selectWorkloads("chain_10k")
	if err != nil || len(ws) != 1 || ws[0].name != "chain_10k" {
		t.Errorf("selectWorkloads(chain_10k) = %v, %v", ws, err)
	}
	if _, err := selectWorkloads("nope"); err == nil || !strings.Contains(err.Error(), "noop_100k") {
		t.Errorf("selectWorkloads(nope) = %v, want an error listing the workloads", err)
	}
}
