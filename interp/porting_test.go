package interp_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// starflowBin is the real binary, built once by TestMain: the porting
// corpus runs scripts exactly as a user does, through `starflow run`.
var starflowBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "starflow-porting")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	starflowBin = filepath.Join(dir, "starflow")
	build := exec.Command("go", "build", "-o", starflowBin, "github.com/starflow-hpc/starflow/cmd/starflow")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build starflow: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// knownBugPrefix marks a corpus script that shows a starflow bug: the
// test skips it, quoting the rest of that first line as the reason, so the
// script stays in the corpus until the bug is fixed.
const knownBugPrefix = "# KNOWN-BUG:"

// TestPortingCorpus runs every Parsl script in testdata/porting with
// `starflow run`, unmodified, each in a scratch copy of the folder (the
// scripts write files). NAME.expected holds the exact stdout (stderr is
// not compared) for exit status 0; NAME.error holds the first line of
// stderr for exit status 2; NAME.args, if present, the script's arguments.
// gen_expected.sh explains where the expected outputs come from.
func TestPortingCorpus(t *testing.T) {
	t.Parallel()
	n := runScriptFolder(t, "testdata/porting")
	if n < 30 {
		t.Errorf("the corpus has %d scripts with expected output, want at least 30", n)
	}
}

// TestPortingSeed runs the seed tutorial's examples in ../shared/porting/
// (beside the repository) unmodified. A script with no .expected file
// needs something this machine lacks (Slurm, a GPU): it must pass
// `starflow check` only.
func TestPortingSeed(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot(t), "..", "shared", "porting")
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no seed corpus at %s (CI checks it out beside the clone)", dir)
	}
	runScriptFolder(t, dir)
}

// runScriptFolder runs each *.py in dir that has an .expected or .error
// file as a subtest and returns how many it found; a .py with neither is
// a helper module unless it is a seed script, which is then only checked.
func runScriptFolder(t *testing.T, dir string) int {
	t.Helper()
	scripts, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts in %s: %v", dir, err)
	}
	n := 0
	for _, script := range scripts {
		base := strings.TrimSuffix(script, ".py")
		want, errWant := os.ReadFile(base + ".expected")
		wantErr, errErr := os.ReadFile(base + ".error")
		switch {
		case errWant == nil:
			n++
			t.Run(filepath.Base(script), func(t *testing.T) {
				t.Parallel()
				skipKnownBug(t, script)
				stdout, stderr, code := runStarflow(t, dir, "run", script)
				if code != 0 {
					t.Fatalf("exit status %d, want 0; stderr:\n%s", code, stderr)
				}
				compareLines(t, stdout, string(want))
			})
		case errErr == nil:
			n++
			t.Run(filepath.Base(script), func(t *testing.T) {
				t.Parallel()
				_, stderr, code := runStarflow(t, dir, "run", script)
				if code != 2 {
					t.Errorf("exit status %d, want 2", code)
				}
				got, _, _ := strings.Cut(stderr, "\n")
				if w := strings.TrimSpace(string(wantErr)); got != w {
					t.Errorf("first line of stderr:\n got %q\nwant %q", got, w)
				}
			})
		case strings.HasPrefix(filepath.Base(script), "seed_"):
			t.Run(filepath.Base(script), func(t *testing.T) {
				t.Parallel()
				if _, stderr, code := runStarflow(t, dir, "check", script); code != 0 {
					t.Errorf("starflow check: exit status %d, want 0; stderr:\n%s", code, stderr)
				}
			})
		}
	}
	return n
}

// runStarflow runs `starflow CMD SCRIPT ARGS...` in a scratch copy of dir,
// ARGS from SCRIPT's .args file, and returns stdout, stderr and the exit
// status.
func runStarflow(t *testing.T, dir, cmd, script string) (stdout, stderr string, code int) {
	t.Helper()
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	args := []string{cmd, filepath.Base(script)}
	if extra, err := os.ReadFile(strings.TrimSuffix(script, ".py") + ".args"); err == nil {
		args = append(args, strings.Fields(string(extra))...)
	}
	c := exec.CommandContext(t.Context(), starflowBin, args...)
	c.Dir = work
	// The copy is the script's project root, so the memo starts empty.
	c.Env = append(os.Environ(), "STARFLOW_PATH=")
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", starflowBin, err)
	}
	return out.String(), errOut.String(), code
}

// skipKnownBug skips a script whose first line starts with knownBugPrefix.
func skipKnownBug(t *testing.T, script string) {
	t.Helper()
	f, err := os.Open(script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := bufio.NewScanner(f)
	if first.Scan() && strings.HasPrefix(first.Text(), knownBugPrefix) {
		t.Skip("known starflow bug:" + strings.TrimPrefix(first.Text(), knownBugPrefix))
	}
}

// compareLines reports each line where got and want differ, so a long
// output shows where it went wrong.
func compareLines(t *testing.T, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("stdout line %d:\n got %q\nwant %q", i+1, g, w)
		}
	}
}

// repoRoot is the folder holding go.mod, above the package being tested.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// BenchmarkCheck5000Lines measures what a user waits for: `starflow check`
// of a 5,000-line Parsl script, as a whole process (the target is
// under 100 ms). The script repeats an app that uses the lowered constructs
// (generator expressions, **, chained comparisons, try/except, assert,
// is not, f-strings with specs, %-formatting, str.format).
func BenchmarkCheck5000Lines(b *testing.B) {
	script := filepath.Join(b.TempDir(), "big.py")
	if err := os.WriteFile(script, []byte(parslScript(5000)), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if out, err := exec.Command(starflowBin, "check", script).CombinedOutput(); err != nil {
			b.Fatalf("starflow check: %v\n%s", err, out)
		}
	}
}

// parslScript returns a Parsl script of n lines.
func parslScript(n int) string {
	var sb strings.Builder
	sb.WriteString(`import parsl
import math
from parsl.app.app import python_app, bash_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

parsl.load(Config(executors=[ThreadPoolExecutor()]))

`)
	lines := 8
	for i := 0; ; i++ {
		block := fmt.Sprintf(`@python_app
def step%[1]d(x, scale=2):
    total = sum(v ** 2 for v in range(x) if 0 < v < %[2]d)
    try:
        ratio = total / x
    except ZeroDivisionError as e:
        ratio = math.inf
    assert ratio is not None, f"ratio {ratio!r}"
    return f"{x:>6d} {ratio:,.3f} {scale:+d}" + "%%5.2f" %% ratio


r%[1]d = step%[1]d(%[1]d)
if r%[1]d is not None and %[1]d %% 7 == 0:
    print("{:>10}".format(r%[1]d.result()))

`, i, i+10)
		for _, line := range strings.SplitAfter(block, "\n") {
			if lines == n {
				return sb.String()
			}
			if line != "" {
				sb.WriteString(line)
				lines++
			}
		}
	}
}
