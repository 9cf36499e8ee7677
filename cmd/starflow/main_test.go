package main

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the starflow command: testscript
// puts a copy named "starflow" on PATH, and the Go tests that need a real
// process (signals, terminals) run that copy too.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"starflow": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI scenarios in testdata/script: each is a txtar
// archive of scripts and the commands run on them.
func TestScript(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits},
	})
}

// cmdExits is "exits CODE PROGRAM [ARGS...]": run PROGRAM and fail unless
// it exits with status CODE. Its output is left for stdout and stderr to
// check, as after exec. Exit codes are part of starflow's interface (1: a
// task failed, 2: bad input, 130/143: signals), so scripts check them
// exactly rather than with "! exec".
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
