// Command starflow runs Parsl-style scientific workflows written in
// Starlark (or in the Parsl dialect of Python) on this machine or a
// Slurm cluster.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
)

// Exit codes, as a Unix tool reports them.
const (
	exitOK          = 0
	exitTaskFailed  = 1 // a task failed and the script never looked
	exitUsage       = 2 // bad command line, script or configuration
	exitInterrupted = 130
	exitTerminated  = 143
)

// version is set by the linker (make build).
var version = "dev"

type cli struct {
	Run       runCmd       `cmd:"" help:"Run a workflow script."`
	Check     checkCmd     `cmd:"" help:"Check a script and the libraries it loads without running anything."`
	Runs      runsCmd      `cmd:"" help:"List past runs: id, script, start, duration, tasks, exit status."`
	Memo      memoCmd      `cmd:"" help:"List, show, clear and compact the project's memo store."`
	Version   versionCmd   `cmd:"" help:"Print starflow's version."`
	Visualize visualizeCmd `cmd:"" help:"Serve a web dashboard of the runs' monitoring databases (this machine only, by default)."`
	Worker    workerCmd    `cmd:"" hidden:"" help:"Serve a HighThroughputExecutor's tasks (started by its provider)."`
}

const description = `starflow runs Parsl-style workflows written in Starlark.

Apps (python_app, bash_app, join_app) return futures; starflow builds the
task graph as the script runs, runs each task once its inputs are ready,
and records every run under ./runinfo/NNN/.`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// exitError carries a process exit code out of a command.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("starflow"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(&exitError{code}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintln(stderr, "starflow:", err)
		return exitUsage
	}
	code := exitOK
	func() {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(*exitError)
				if !ok {
					panic(r)
				}
				code = e.code
			}
		}()
		kctx, err := parser.Parse(args)
		if err != nil {
			fmt.Fprintf(stderr, "starflow: %v\n", err)
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", commandPath(err))
			code = exitUsage
			return
		}
		err = kctx.Run(&globals{stdout: stdout, stderr: stderr})
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			code = ee.code
		case err != nil:
			fmt.Fprintf(stderr, "starflow: %v\n", err)
			code = exitUsage
		}
	}()
	return code
}

// commandPath names the command a parse error is about ("starflow run"),
// so the hint points at the help that answers it.
func commandPath(err error) string {
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if n := pe.Context.Selected(); n != nil {
			return "starflow " + n.Path()
		}
	}
	return "starflow"
}

// globals are what every command gets besides its flags.
type globals struct {
	stdout, stderr io.Writer
}

type versionCmd struct{}

func (versionCmd) Run(g *globals) error {
	fmt.Fprintf(g.stdout, "starflow %s\n", version)
	return nil
}
