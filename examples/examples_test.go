// Package examples_test runs every example workflow with the real starflow
// binary, as a user would, and checks what it prints and leaves on disk.
package examples_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// starflow is the binary built once for all examples.
var starflow string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "starflow-examples")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	starflow = filepath.Join(dir, "starflow")
	// go test puts its own toolchain first on PATH.
	build := exec.Command("go", "build", "-o", starflow, "github.com/starflow-hpc/starflow/cmd/starflow")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build starflow:", err)
		return 1
	}
	return m.Run()
}

// runExample copies the example into a fresh folder, runs it there and
// returns its stdout and the folder. It fails the test unless starflow
// exits 0 with nothing on stderr and leaves runinfo/000/starflow.log.
func runExample(t *testing.T, name string, args ...string) (stdout, dir string) {
	t.Helper()
	dir = t.TempDir()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(starflow, append([]string{"run", name}, args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("starflow run %s: %v\nstdout:\n%s\nstderr:\n%s", name, err, out.String(), errb.String())
	}
	if errb.Len() > 0 {
		t.Errorf("stderr is not empty:\n%s", errb.String())
	}
	log, err := os.ReadFile(filepath.Join(dir, "runinfo", "000", "starflow.log"))
	if err != nil {
		t.Fatalf("run log: %v", err)
	}
	if !bytes.Contains(log, []byte("run finished")) {
		t.Errorf("run log has no summary:\n%s", log)
	}
	return out.String(), dir
}

func checkOutput(t *testing.T, got, want string) {
	t.Helper()
	want = strings.TrimLeft(want, "\n")
	if got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

func TestSweep(t *testing.T) {
	t.Parallel()
	got, _ := runExample(t, "sweep.star")
	checkOutput(t, got, `
evaluated 125 configurations
top 3:
  a=3 b=-2 c=5  sse=20
  a=3 b=-2 c=4  sse=31
  a=3 b=-2 c=6  sse=31
best: a=3 b=-2 c=5 (sse=20)
`)
}

func TestMapReduce(t *testing.T) {
	t.Parallel()
	const counts = `most frequent:
  the 9
  a 3
  and 3
  dog 3
  fox 3
`
	got, _ := runExample(t, "mapreduce.star")
	checkOutput(t, got, "6 lines in 3 chunks: 56 words, 35 distinct\n"+counts)

	// The answer does not depend on how the text is split.
	got, _ = runExample(t, "mapreduce.star", "4")
	checkOutput(t, got, "6 lines in 2 chunks: 56 words, 35 distinct\n"+counts)
}

func TestJoinRecursion(t *testing.T) {
	t.Parallel()
	got, _ := runExample(t, "join_recursion.star")
	checkOutput(t, got, `
sqrt(2) = 1.414213562373095 after 6 steps
sqrt(10) = 3.162277660168379 after 7 steps
sqrt(1000) = 31.622776601683793 after 10 steps
fib(15) = 610
`)
	// Deeper recursion: fib(20) is about 30,000 tasks.
	got, _ = runExample(t, "join_recursion.star", "20")
	if !strings.HasSuffix(got, "fib(20) = 6765\n") {
		t.Errorf("stdout:\n%s\nwant it to end with fib(20) = 6765", got)
	}
}

func TestPipeline(t *testing.T) {
	t.Parallel()
	got, dir := runExample(t, "pipeline.star")
	checkOutput(t, got, `
task 0 wrote pipeline_out/numbers.txt, log in runinfo/000/task_logs/0000/task_0000_generate.stdout
task 1 wrote pipeline_out/squares.txt, log in runinfo/000/task_logs/0000/task_0001_square.stdout
task 2 wrote pipeline_out/report.txt, log in runinfo/000/task_logs/0000/task_0002_total.stdout
sum of squares: 385
`)
	for path, want := range map[string]string{
		"pipeline_out/report.txt":                              "sum of squares: 385\n",
		"runinfo/000/task_logs/0000/task_0000_generate.stdout": "wrote 10 numbers\n",
		"runinfo/000/task_logs/0000/task_0001_square.stdout":   "squared 10 numbers\n",
		"runinfo/000/task_logs/0000/task_0002_total.stdout":    "summed\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Error(err)
			continue
		}
		if string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
}
