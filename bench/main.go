// Command bench measures starflow against issue 2's "Numbers to reach":
// each workload is a script run as a separate `starflow run` process, timed
// from process start to exit, with the child's peak RSS. It prints a table
// and writes the same numbers as JSON (`make bench`).
package main

import (
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed workloads/*.star
var scripts embed.FS

type options struct {
	bin   string
	count int
	only  string
	quick bool
	log   io.Writer // progress of the runs, for whoever is waiting
}

func main() {
	var o options
	var out string
	flag.StringVar(&o.bin, "bin", "bin/starflow", "starflow binary to measure")
	flag.StringVar(&out, "out", "", "write the results as JSON to this file")
	flag.IntVar(&o.count, "count", 5, "measured runs per workload (the 1M workload runs at most 3, startup 4*count+1)")
	flag.StringVar(&o.only, "only", "", "run only these workloads (comma-separated): "+strings.Join(names(), ", "))
	flag.BoolVar(&o.quick, "quick", false, "smoke test: small N, one run each, no warm-up")
	flag.Parse()
	o.log = os.Stderr

	results, err := benchmark(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, results, o.quick)
	if out != "" {
		if err := writeJSON(out, results); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
}

// benchmark runs the selected workloads in order and returns their rows.
func benchmark(o options) ([]result, error) {
	if o.count < 1 {
		return nil, fmt.Errorf("-count: got %d, want 1 or more", o.count)
	}
	chosen, err := selectWorkloads(o.only)
	if err != nil {
		return nil, err
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("-bin: %w (run `make build` first)", err)
	}
	scratch, err := os.MkdirTemp("", "starflow-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if err := os.CopyFS(scratch, scripts); err != nil {
		return nil, fmt.Errorf("write workload scripts: %w", err)
	}
	r := &runner{bin: bin, scripts: filepath.Join(scratch, "workloads"), scratch: scratch, log: o.log}

	var results []result
	for _, w := range chosen {
		n, runs := w.n, w.runs(o.count)
		if o.quick {
			n, runs = w.quickN, 1
		}
		rows, err := r.measure(w, n, runs, !o.quick)
		if err != nil {
			return nil, err
		}
		results = append(results, rows...)
	}
	return results, nil
}

// selectWorkloads picks the workloads named in only, a comma-separated
// list, in the table's order; "" is all of them.
func selectWorkloads(only string) ([]workload, error) {
	if only == "" {
		return workloads, nil
	}
	want := make(map[string]bool)
	for _, name := range strings.Split(only, ",") {
		want[strings.TrimSpace(name)] = true
	}
	var chosen []workload
	for _, w := range workloads {
		if want[w.name] {
			chosen = append(chosen, w)
			delete(want, w.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("-only %q: no workload %q; have %s", only, name, strings.Join(names(), ", "))
	}
	return chosen, nil
}

func names() []string {
	var ns []string
	for _, w := range workloads {
		ns = append(ns, w.name)
	}
	return ns
}

func printTable(out io.Writer, results []result, quick bool) {
	fmt.Fprintf(out, "starflow benchmark: %d cores, %s/%s, %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().Format(time.DateTime))
	rows := [][]string{{"name", "N", "runs", "median s", "tasks/s", "peak RSS", "measured", "target", "met"}}
	for _, r := range results {
		measured, target, met := "-", "-", "-"
		if len(r.Targets) > 0 {
			var ms, ts []string
			for _, t := range r.Targets {
				ms = append(ms, describe(t.Metric, t.Value))
				ts = append(ts, t.Op+" "+describe(t.Metric, t.Limit))
			}
			measured, target, met = strings.Join(ms, ", "), strings.Join(ts, ", "), yesNo(r.Met)
		}
		rss := "-"
		if r.PeakRSSBytes > 0 {
			rss = bytesIEC(r.PeakRSSBytes)
		}
		rows = append(rows, []string{r.Name, thousands(float64(r.N)), fmt.Sprint(r.Runs), fmt.Sprintf("%.3f", r.Seconds),
			thousands(r.TasksPerS), rss, measured, target, met})
	}
	writeColumns(out, rows)
	if quick {
		fmt.Fprintln(out, "\n-quick: small N and one run each; the targets are for the full sizes, so ignore the met column.")
	}
	fmt.Fprintln(out, "\ntasks/s = N / median wall time of the whole `starflow run` process, end to end including process start and exit.")
	fmt.Fprintln(out, "bash_true_baseline = `/bin/bash -c true` run from Go, one process per core at a time, paired run for run with bash_true_2k.")
	fmt.Fprintln(out, "memo_hits_100k times the second run in a folder (every task a hit); memo_task_exit_100k a first run, against its _uncached twin without cache=True, paired run for run.")
	fmt.Fprintln(out, "memo_bytes_per_entry = disk space of the store after a first run and `starflow memo gc`, over its entries.")
	if slices.ContainsFunc(results, func(r result) bool { return strings.HasPrefix(r.Name, "slurm_") }) {
		// The Slurm rows time part of a run, not the whole process.
		fmt.Fprintln(out, "sbatch_wait_baseline = `sbatch --wait --wrap=true` of a one-node job on the test cluster, paired run for run with slurm_first_result.")
		fmt.Fprintln(out, "slurm_first_result: median s from `starflow run` starting to its first result with one Slurm block; measured = that over sbatch_wait_baseline's median.")
		fmt.Fprintln(out, "slurm_noop_10k: median s and tasks/s from the moment a worker of each of its 3 blocks has connected to the last result.")
	}
}

// writeColumns aligns the first column left and the rest right, as numbers
// read best; text/tabwriter aligns every column the same way.
func writeColumns(out io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(out, b.String())
	}
}

// describe renders a metric's value in its unit.
func describe(metric string, v float64) string {
	switch metric {
	case "tasks_per_s":
		return thousands(v) + " tasks/s"
	case "seconds":
		return fmt.Sprintf("%.2f s", v)
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "rss_per_task_bytes":
		return fmt.Sprintf("%.0f B/task", v)
	case "ratio_to_baseline":
		return fmt.Sprintf("%.2fx baseline", v)
	case "ratio_to_uncached":
		return fmt.Sprintf("%.2fx uncached", v)
	case "ratio_to_sbatch_wait":
		return fmt.Sprintf("%.2fx sbatch --wait", v)
	case "store_bytes_per_entry":
		return fmt.Sprintf("%.0f B/entry", v)
	}
	return fmt.Sprintf("%g %s", v, metric)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// thousands formats a rate or count as an integer with comma separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func bytesIEC(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
}

func writeJSON(path string, results []result) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep ">=" readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
