package providers_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/providers"
)

func TestParseWalltime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "00:10:00", want: 10 * time.Minute},
		{in: "00:15:00", want: 15 * time.Minute},
		{in: "01:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "100:00:00", want: 100 * time.Hour},
		{in: "0:00:30", want: 30 * time.Second},
		{in: "10m", err: `walltime: got "10m", want "HH:MM:SS" (e.g. "00:10:00")`},
		{in: "10:00", err: `want "HH:MM:SS"`},
		{in: "00:60:00", err: `want "HH:MM:SS"`},
		{in: "00:00:60", err: `want "HH:MM:SS"`},
		{in: "-1:00:00", err: `want "HH:MM:SS"`},
		{in: "01:+2:00", err: `want "HH:MM:SS"`},
		{in: "a:b:c", err: `want "HH:MM:SS"`},
		{in: "", err: `want "HH:MM:SS"`},
		{in: "00:00:00", err: `want a positive duration "HH:MM:SS"`},
	}
	for _, tt := range tests {
		got, err := providers.ParseWalltime(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseWalltime(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseWalltime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back := providers.FormatWalltime(got); back != tt.in && len(tt.in) == 8 {
			t.Errorf("FormatWalltime(%v) = %q, want %q", got, back, tt.in)
		}
	}
	if got := providers.FormatWalltime(1500 * time.Millisecond); got != "00:00:02" {
		t.Errorf("FormatWalltime rounds up: got %q, want 00:00:02", got)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := providers.Settings{NodesPerBlock: 1, InitBlocks: 1, MinBlocks: 0, MaxBlocks: 1, Parallelism: 1, CmdTimeout: time.Second}
	tests := []struct {
		name string
		edit func(*providers.Settings)
		want []string // substrings of the error; none: valid
	}{
		{"defaults", func(*providers.Settings) {}, nil},
		{"parallelism 0", func(s *providers.Settings) { s.Parallelism = 0 }, nil},
		{"min equals max", func(s *providers.Settings) { s.MinBlocks, s.MaxBlocks = 3, 3 }, nil},
		{"max below min", func(s *providers.Settings) { s.MinBlocks, s.MaxBlocks = 2, 1 },
			[]string{"max_blocks (1) < min_blocks (2): want min_blocks <= max_blocks"}},
		{"parallelism above 1", func(s *providers.Settings) { s.Parallelism = 1.5 },
			[]string{"parallelism: got 1.5, want a number in [0, 1]"}},
		{"parallelism negative", func(s *providers.Settings) { s.Parallelism = -0.1 }, []string{"parallelism: got -0.1"}},
		{"nodes_per_block", func(s *providers.Settings) { s.NodesPerBlock = 0 }, []string{"nodes_per_block: got 0, want an integer >= 1"}},
		{"max_blocks zero", func(s *providers.Settings) { s.MaxBlocks = 0 }, []string{"max_blocks: got 0, want an integer >= 1"}},
		{"cmd_timeout", func(s *providers.Settings) { s.CmdTimeout = 0 }, []string{"cmd_timeout: got 0"}},
		{"all reported", func(s *providers.Settings) { s.InitBlocks, s.MinBlocks = -1, -2 },
			[]string{"init_blocks: got -1", "min_blocks: got -2"}},
	}
	for _, tt := range tests {
		s := ok
		tt.edit(&s)
		err := s.Validate()
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Validate() = nil, want an error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: Validate() = %q, want it to contain %q", tt.name, err, w)
			}
		}
	}
}

func TestJobState(t *testing.T) {
	t.Parallel()
	var zero providers.JobState
	if zero != providers.Unknown || zero.Terminal() || !zero.Active() {
		t.Errorf("zero JobState = %v (terminal %v, active %v), want UNKNOWN, not terminal, active", zero, zero.Terminal(), zero.Active())
	}
	for _, s := range []providers.JobState{providers.Completed, providers.Cancelled, providers.Failed, providers.Timeout,
		providers.NodeFail, providers.Preempted, providers.OutOfMemory, providers.Lost} {
		if !s.Terminal() || s.Active() {
			t.Errorf("%v: terminal %v, active %v; want terminal, not active", s, s.Terminal(), s.Active())
		}
	}
	if providers.Completing.Terminal() || providers.Completing.Active() {
		t.Errorf("COMPLETING must be neither terminal nor active")
	}
	if got := providers.NodeFail.String(); got != "NODE_FAIL" {
		t.Errorf("NodeFail.String() = %q", got)
	}
}

// wrapTwice is a launcher whose output shows its arguments.
type wrapTwice struct{}

func (wrapTwice) Wrap(cmd string, tpn, npb int) string {
	return strings.Repeat(cmd+"\n", tpn*npb)
}

func TestBlockScript(t *testing.T) {
	t.Parallel()
	b := providers.Block{ID: 7, Label: "htex", Command: "echo hi", TasksPerNode: 1, Dir: "/x"}
	tests := []struct {
		name string
		s    providers.Settings
		want string
	}{
		{"no worker_init", providers.Settings{NodesPerBlock: 2, Launcher: wrapTwice{}},
			"export JOBNAME=htex.block-7\nexport PARSL_WORKER_BLOCK_ID=7\n\necho hi\necho hi\n"},
		{"worker_init", providers.Settings{NodesPerBlock: 1, WorkerInit: "  module load x\nsource env  \n", Launcher: wrapTwice{}},
			"export JOBNAME=htex.block-7\nexport PARSL_WORKER_BLOCK_ID=7\n\n# worker_init\ntrap 'rc=$?; [ \"$rc\" = 0 ] || echo \"" +
				providers.WorkerInitFailed + " $rc\" >&2' EXIT\n{\nmodule load x\nsource env\n}\nrc=$?; [ \"$rc\" = 0 ] || exit \"$rc\"\ntrap - EXIT\n\necho hi\n"},
		{"no launcher", providers.Settings{}, "export JOBNAME=htex.block-7\nexport PARSL_WORKER_BLOCK_ID=7\n\necho hi\n"},
	}
	for _, tt := range tests {
		if got := providers.BlockScript(b, tt.s); got != tt.want {
			t.Errorf("%s:\ngot:\n%s\nwant:\n%s", tt.name, got, tt.want)
		}
	}
	if got, want := b.ScriptPath(), "/x/htex.block-7.sh"; got != want {
		t.Errorf("ScriptPath() = %q, want %q", got, want)
	}
	if got, want := b.StderrPath(), "/x/htex.block-7.stderr"; got != want {
		t.Errorf("StderrPath() = %q, want %q", got, want)
	}
}

// TestBlockScriptRuns runs the script with bash: a failing worker_init
// stops it before the command, with worker_init's exit code and stderr.
func TestBlockScriptRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	tests := []struct {
		init     string
		wantCode int
		wantErr  string
		ran      bool
	}{
		{init: "export X=1", ran: true},
		{init: "echo 'conda: no env named nope' >&2\n(exit 4)", wantCode: 4, wantErr: "conda: no env named nope\n" + providers.WorkerInitFailed + " 4"},
		{init: "false # a comment on the last line", wantCode: 1, wantErr: providers.WorkerInitFailed + " 1"},
		{init: "echo cannot load module foo >&2; exit 3", wantCode: 3, wantErr: "cannot load module foo\n" + providers.WorkerInitFailed + " 3"},
		{init: "set -e\nfalse\necho not reached", wantCode: 1, wantErr: providers.WorkerInitFailed + " 1"},
		{init: "true\n", ran: true},
	}
	for _, tt := range tests {
		os.Remove(marker)
		b := providers.Block{ID: 1, Command: "touch " + marker, Dir: dir}
		script := providers.BlockScript(b, providers.Settings{WorkerInit: tt.init})
		cmd := exec.Command("/bin/bash", "-c", script)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(marker)
		if code != tt.wantCode || strings.TrimSpace(stderr.String()) != tt.wantErr || (statErr == nil) != tt.ran {
			t.Errorf("worker_init %q: code %d, stderr %q, ran %v; want %d, %q, %v",
				tt.init, code, stderr.String(), statErr == nil, tt.wantCode, tt.wantErr, tt.ran)
		}
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("x", 5000) + "\nlast line\n"
	tests := []struct {
		path string
		max  int
		want string
	}{
		{write("short", "a\nb\nc\n\n"), 10, "a\nb\nc"},
		{write("many", "1\n2\n3\n4\n5\n"), 2, "4\n5"},
		{write("long", long), 10, "last line"},
		{write("empty", ""), 10, ""},
		{filepath.Join(dir, "missing"), 10, ""},
	}
	for _, tt := range tests {
		if got := providers.Tail(tt.path, tt.max); got != tt.want {
			t.Errorf("Tail(%s, %d) = %q, want %q", filepath.Base(tt.path), tt.max, got, tt.want)
		}
	}
	if got := providers.ExitMessage(3, tests[0].path); got != "exit code 3; "+tests[0].path+" ends with:\na\nb\nc" {
		t.Errorf("ExitMessage = %q", got)
	}
}
