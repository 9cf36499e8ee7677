package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// slowRun lasts long enough (five rounds of 0.1 s naps on two workers) for
// the progress line, redrawn every 150 ms, to be drawn several times.
const slowRun = `
@bash_app
def nap():
    return "sleep 0.1"

for f in [nap() for i in range(10)]:
    f.result()
print("finished")
`

func writeSlowRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slow.star"), []byte(slowRun), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Piped or redirected, stdout carries the script's output and nothing of
// the progress line.
func TestNoProgressWhenNotTerminal(t *testing.T) {
	t.Parallel()
	dir := writeSlowRun(t)
	cmd := exec.Command(starflowBinary(t), "run", "--workers", "2", "slow.star")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if got := stdout.String(); got != "finished\n" {
		t.Errorf("stdout = %q, want only the script's output", got)
	}
	if got := stderr.String(); got != "" {
		t.Errorf("stderr = %q, want nothing", got)
	}
}

// On a terminal (a pseudo-terminal made by script(1)), the live line shows
// the counts, and --no-progress turns it off.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) from util-linux to run starflow on a pseudo-terminal")
	}
	bin := starflowBinary(t)
	onTerminal := func(t *testing.T, args ...string) string {
		t.Helper()
		dir := writeSlowRun(t)
		line := shellQuote(bin) + " run --workers 2 " + strings.Join(args, " ") + " slow.star"
		// -e: script's status is starflow's; the typescript goes nowhere.
		cmd := exec.Command(script, "-qefc", line, "/dev/null")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}

	t.Run("shown", func(t *testing.T) {
		t.Parallel()
		out := onTerminal(t)
		for _, want := range []string{"/10 done · ", " running · ", " pending · ", " failed · ", " tasks/s · 0:00", "finished"} {
			if !strings.Contains(out, want) {
				t.Errorf("terminal output has no %q:\n%q", want, out)
			}
		}
		// The line is erased before the script's output and at the end.
		if !strings.Contains(out, "\x1b[2K\rfinished") || !strings.HasSuffix(out, "\x1b[2K\r") {
			t.Errorf("progress line not cleared:\n%q", out)
		}
	})
	t.Run("no-progress", func(t *testing.T) {
		t.Parallel()
		out := onTerminal(t, "--no-progress")
		if out != "finished\r\n" {
			t.Errorf("terminal output = %q, want only the script's output", out)
		}
	})
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestStatusText(t *testing.T) {
	t.Parallel()
	c := dfk.Counts{Submitted: 400, Waiting: 200, Queued: 62, Running: 2, Done: 130, Failed: 6}
	for _, tc := range []struct {
		rate    float64
		elapsed time.Duration
		room    int
		want    string
	}{
		{45.2, 3 * time.Second, 200, "130/400 done · 2 running · 262 pending · 6 failed · 45 tasks/s · 0:03"},
		{0.46, 75 * time.Second, 200, "130/400 done · 2 running · 262 pending · 6 failed · 0.5 tasks/s · 1:15"},
		{1234, 3723 * time.Second, 200, "130/400 done · 2 running · 262 pending · 6 failed · 1234 tasks/s · 1:02:03"},
		// A narrow terminal gets fewer words, then a cut line, never a
		// wrapped one.
		{45.2, 3 * time.Second, 50, "130/400 done 2 run 262 wait 6 fail 45/s 0:03"},
		{45.2, 3 * time.Second, 20, "130/400 done 2 run …"},
		{45.2, 3 * time.Second, 0, ""},
	} {
		if got := statusText(c, tc.rate, tc.elapsed, tc.room); got != tc.want {
			t.Errorf("statusText(rate %v, %v, room %d) = %q, want %q", tc.rate, tc.elapsed, tc.room, got, tc.want)
		}
	}
}
