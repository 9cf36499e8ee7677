package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/starflow-hpc/starflow/memo"
)

// result is one row of the table and one object of the JSON file.
type result struct {
	Name string `json:"name"`
	N    int    `json:"n"`
	Runs int    `json:"runs"`
	// Seconds is the median wall time of the whole process, start to exit.
	Seconds    float64   `json:"seconds"`
	AllSeconds []float64 `json:"all_seconds"`
	TasksPerS  float64   `json:"tasks_per_s"` // N / Seconds
	// PeakRSSBytes is the median over runs of the child's peak RSS.
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	RSSPerTaskBytes float64 `json:"rss_per_task_bytes"` // PeakRSSBytes / N, nothing subtracted
	// For bash_true_2k: the plain `/bin/bash -c true` rate of this machine,
	// measured in the same loop, and starflow's rate as a fraction of it.
	BaselineTasksPerS float64 `json:"baseline_tasks_per_s,omitempty"`
	RatioToBaseline   float64 `json:"ratio_to_baseline,omitempty"`
	// For memo_task_exit_100k: the rate of the same script without
	// cache=True, measured in the same loop, and this rate as a fraction.
	UncachedTasksPerS float64 `json:"uncached_tasks_per_s,omitempty"`
	RatioToUncached   float64 `json:"ratio_to_uncached,omitempty"`
	// For memo_bytes_per_entry: the median over runs of the store's disk
	// space after `starflow memo gc`, over its entries.
	StoreBytesPerEntry float64 `json:"store_bytes_per_entry,omitempty"`
	// For slurm_first_result: the median time of `sbatch --wait` of a
	// trivial job, measured in the same loop, and the median time to the
	// first result over it.
	SbatchWaitSeconds float64  `json:"sbatch_wait_seconds,omitempty"`
	RatioToSbatchWait float64  `json:"ratio_to_sbatch_wait,omitempty"`
	Targets           []target `json:"targets"`
	Met               bool     `json:"met"`
}

// customMeasures measure the workloads, by name, whose number is not the
// wall time of a whole `starflow run` (the Slurm rows: a time to the
// first result, a rate once workers are connected). Each returns its rows
// judged.
var customMeasures = map[string]func(r *runner, w workload, n, runs int, warmUp bool) ([]result, error){}

// sample is one run of one workload.
type sample struct {
	wall          time.Duration
	peakRSS       int64   // bytes
	bytesPerEntry float64 // of the memo store, for storeSize workloads
}

// runner runs workloads as child processes of bin.
type runner struct {
	bin     string // absolute: children run in their own folders
	scripts string // folder holding the workload scripts
	scratch string // parent of every run's working folder
	log     io.Writer
}

// once runs w's script for n tasks in a fresh working folder (so each run
// starts from an empty runinfo/ and an empty memo store) and checks what it
// printed.
func (r *runner) once(w workload, n int) (sample, error) {
	dir, err := os.MkdirTemp(r.scratch, w.name+"-")
	if err != nil {
		return sample{}, err
	}
	defer os.RemoveAll(dir)
	if w.warm {
		if _, err := r.run(w, dir, n); err != nil {
			return sample{}, fmt.Errorf("untimed first run: %w", err)
		}
	}
	if w.folded {
		if err := r.memoGC(dir); err != nil {
			return sample{}, fmt.Errorf("%s (n=%d): %w", w.name, n, err)
		}
	}
	s, err := r.run(w, dir, n)
	if err != nil {
		return sample{}, err
	}
	if w.storeSize {
		if s.bytesPerEntry, err = r.storeSize(dir, n); err != nil {
			return sample{}, fmt.Errorf("%s (n=%d): %w", w.name, n, err)
		}
	}
	return s, nil
}

// run is one timed `starflow run` of w's script in dir.
func (r *runner) run(w workload, dir string, n int) (sample, error) {
	cmd := exec.Command(r.bin, "run", "--no-progress", "--memo-dir", memoDir(dir),
		filepath.Join(r.scripts, w.script), strconv.Itoa(n))
	if w.check {
		script := filepath.Join(dir, "big.py")
		if err := os.WriteFile(script, bigScript(n), 0o644); err != nil {
			return sample{}, err
		}
		cmd = exec.Command(r.bin, "check", script)
	}
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s (n=%d): %w\n%s", w.name, n, err, tail(stderr.String()))
	}
	if got, want := strings.TrimSpace(stdout.String()), w.want(n); got != want {
		return sample{}, fmt.Errorf("%s (n=%d): script printed %q, want %q\n%s", w.name, n, tail(got), want, tail(stderr.String()))
	}
	return sample{wall: wall, peakRSS: peakRSS(cmd.ProcessState)}, nil
}

// bigScript is an n-line Parsl script in the dialect: decorators, imports,
// f-strings, format specs, **, try/except, comprehensions.
func bigScript(n int) []byte {
	var b bytes.Buffer
	b.WriteString("import parsl\nfrom parsl.app.app import python_app\nimport math\n")
	lines := 3
	for i := 0; lines < n; i++ {
		fmt.Fprintf(&b, `@python_app
def step%[1]d(x, scale=2):
    y = x ** 2 + scale * math.sqrt(abs(x))
    try:
        z = [v * %[1]d for v in range(3) if v is not None]
    except ZeroDivisionError as e:
        z = []
    return f"{y:>10.3f} {sum(z)} %%s" %% "%[1]d"

`, i)
		lines += 10
	}
	return b.Bytes()
}

// memoDir is where a run in dir keeps its memo store: the scripts live
// elsewhere, and the default store (beside the script) would be shared by
// every run.
func memoDir(dir string) string { return filepath.Join(dir, "memo") }

// storeSize compacts the store a run left in dir with `starflow memo gc`,
// as a user would, and returns its disk space per entry. The store must
// hold one entry per task.
func (r *runner) storeSize(dir string, n int) (float64, error) {
	if err := r.memoGC(dir); err != nil {
		return 0, err
	}
	s, err := memo.Open(memoDir(dir), memo.Options{})
	if err != nil {
		return 0, err
	}
	st, err := s.Stats(context.Background())
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	if st.Entries != n || st.Damaged != 0 {
		return 0, fmt.Errorf("store holds %d entries (%d damaged), want %d", st.Entries, st.Damaged, n)
	}
	return float64(st.DiskBytes()) / float64(st.Entries), nil
}

// memoGC runs `starflow memo gc` on the store of a run in dir, which folds
// its results log into Badger and compacts it.
func (r *runner) memoGC(dir string) error {
	if out, err := exec.Command(r.bin, "memo", "gc", "--memo-dir", memoDir(dir)).CombinedOutput(); err != nil {
		return fmt.Errorf("starflow memo gc: %w\n%s", err, tail(string(out)))
	}
	return nil
}

// peakRSS is the child's high-water mark of resident memory, in bytes.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // macOS reports bytes
	}
	return int64(ru.Maxrss) * 1024 // Linux reports KiB
}

// bashBaseline times n runs of `/bin/bash -c true`, one process per core at
// a time: the most a bash app runner could hope for on this machine.
func bashBaseline(n int) (time.Duration, error) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range runtime.NumCPU() {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := exec.Command("/bin/bash", "-c", "true").Run(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return 0, fmt.Errorf("baseline /bin/bash -c true: %w", first)
	}
	return time.Since(start), nil
}

// measure runs w for n tasks, runs times (after one small warm-up run, so the first
// measured run does not pay for a cold page cache) and reduces the runs to
// their medians. With a baseline or an uncached twin, each run of w is
// paired with one of it, so a machine that slows down mid-benchmark slows
// both.
func (r *runner) measure(w workload, n, runs int, warmUp bool) ([]result, error) {
	if m := customMeasures[w.name]; m != nil {
		return m(r, w, n, runs, warmUp)
	}
	if warmUp {
		if _, err := r.once(w, w.quickN); err != nil {
			return nil, err
		}
	}
	var walls, base, twin []time.Duration
	var rss []int64
	var sizes []float64
	uncached := workload{name: w.name + "_uncached", script: w.uncached, want: w.want}
	for i := range runs {
		if w.baseline {
			d, err := bashBaseline(n)
			if err != nil {
				return nil, err
			}
			base = append(base, d)
			fmt.Fprintf(r.log, "bash_true_baseline: run %d/%d: %.3fs\n", i+1, runs, d.Seconds())
		}
		if w.uncached != "" {
			s, err := r.once(uncached, n)
			if err != nil {
				return nil, err
			}
			twin = append(twin, s.wall)
			fmt.Fprintf(r.log, "%s: run %d/%d: %.3fs\n", uncached.name, i+1, runs, s.wall.Seconds())
		}
		s, err := r.once(w, n)
		if err != nil {
			return nil, err
		}
		walls, rss, sizes = append(walls, s.wall), append(rss, s.peakRSS), append(sizes, s.bytesPerEntry)
		fmt.Fprintf(r.log, "%s: run %d/%d: %.3fs, peak RSS %s\n", w.name, i+1, runs, s.wall.Seconds(), bytesIEC(s.peakRSS))
	}
	res := summarise(w.name, n, walls)
	res.PeakRSSBytes = median(rss)
	res.RSSPerTaskBytes = float64(res.PeakRSSBytes) / float64(n)
	var out []result
	if w.baseline {
		b := summarise("bash_true_baseline", n, base)
		res.BaselineTasksPerS = b.TasksPerS
		res.RatioToBaseline = res.TasksPerS / b.TasksPerS
		out = append(out, b)
	}
	if w.uncached != "" {
		u := summarise(uncached.name, n, twin)
		res.UncachedTasksPerS = u.TasksPerS
		res.RatioToUncached = res.TasksPerS / u.TasksPerS
		out = append(out, u)
	}
	if w.storeSize {
		res.StoreBytesPerEntry = median(sizes)
	}
	if err := judge(&res, w.targets); err != nil {
		return nil, err
	}
	return append(out, res), nil
}

func summarise(name string, n int, walls []time.Duration) result {
	r := result{Name: name, N: n, Runs: len(walls), Targets: []target{}}
	for _, d := range walls {
		r.AllSeconds = append(r.AllSeconds, d.Seconds())
	}
	r.Seconds = median(walls).Seconds()
	r.TasksPerS = float64(n) / r.Seconds
	return r
}

// median of a non-empty list; the mean of the middle two for an even count.
func median[T ~int64 | ~float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// tail keeps the end of a child's output: where its error is.
func tail(s string) string {
	const max = 2000
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}
