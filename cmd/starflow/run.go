package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
	"github.com/starflow-hpc/starflow/interp"
	"github.com/starflow-hpc/starflow/memo/project"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

type runCmd struct {
	Script     string   `arg:"" passthrough:"" help:"Workflow script (.star, or a Parsl .py)." placeholder:"SCRIPT"`
	Args       []string `arg:"" optional:"" passthrough:"" help:"Arguments for the script: argv (and sys.argv) is [SCRIPT, ARGS...]." placeholder:"ARGS"`
	Config     string   `help:"Starlark file defining 'config = Config(...)'; replaces the configuration the script loads." placeholder:"FILE"`
	Workers    int      `help:"Size of the default thread pool (default: number of cores)." placeholder:"N"`
	RunDir     string   `help:"Folder for run records; each run gets NNN/ inside it." default:"runinfo" placeholder:"DIR"`
	LogLevel   string   `help:"Level of runinfo/NNN/starflow.log: trace, debug, info, warn, error." default:"info" enum:"trace,debug,info,warn,error" placeholder:"LEVEL"`
	NoProgress bool     `help:"Do not show the live progress line (it is shown only on a terminal anyway)."`
	Fresh      bool     `help:"Ignore results memoized by earlier runs (cache=True apps run again); this run's results are still stored."`
	Lib        []string `name:"lib" sep:"none" help:"Root of the @NAME// libraries (repeatable); before STARFLOW_PATH (NAME=DIR:NAME2=DIR2)." placeholder:"NAME=DIR"`
	MemoDir    string   `help:"Memo store of cached results (default: .starflow/memo in the project root: the nearest folder above SCRIPT holding starflow.toml, else SCRIPT's folder)." placeholder:"DIR"`
}

func (r *runCmd) Help() string {
	return `Runs SCRIPT to completion: every app call becomes a task that runs once
the futures it was given are done. Script output goes to stdout, a live
progress line to the terminal (never to a pipe or file), and the run's log
to runinfo/NNN/starflow.log.

Flags go before SCRIPT: everything after it is the script's own, in argv
(and sys.argv).

Examples:

  starflow run examples/sweep.star
  starflow run --workers 4 --log-level debug sweep.star --grid fine
  starflow run --config cluster.star workflow.py

Exit status:

  0    every task succeeded, or the script handled each failure
  1    a task failed: the script never looked at it, or stopped on it
  2    bad command line, script or configuration
  130  interrupted by SIGINT (a second Ctrl-C exits at once)
  143  terminated by SIGTERM`
}

func (r *runCmd) Run(g *globals) error {
	if r.Workers < 0 {
		return fmt.Errorf("--workers: got %d, want 1 or more (0 means one per core)", r.Workers)
	}
	if r.Script == "--" && len(r.Args) > 0 {
		// SCRIPT ends flag parsing, so a "--" before it arrives here.
		r.Script, r.Args = r.Args[0], r.Args[1:]
	}
	argv := append([]string{r.Script}, r.Args...)
	prog, err := interp.Compile(r.Script, argv, interp.WithLibs(r.Lib...))
	if err != nil {
		fmt.Fprintln(g.stderr, interp.FormatError(err))
		return &exitError{exitUsage}
	}
	var cfg *builtins.Config
	if r.Config != "" {
		if cfg, err = loadConfigFile(r.Config); err != nil {
			fmt.Fprintln(g.stderr, interp.FormatError(err))
			return &exitError{exitUsage}
		}
	}
	_, statErr := os.Stat(r.RunDir)
	hadRunDir := statErr == nil

	logOut := newLogSink()
	defer logOut.Close()
	level := hclog.LevelFromString(r.LogLevel)
	logger := hclog.New(&hclog.LoggerOptions{Name: "starflow", Level: level, Output: logOut, TimeFormat: "2006-01-02 15:04:05.000"})

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	memoDir := r.MemoDir
	if memoDir == "" {
		root, err := project.Root(r.Script)
		if err != nil {
			return fmt.Errorf("find the project root: %w", err)
		}
		memoDir = project.MemoDir(root)
	}
	tracker := bash.NewTracker()
	slurmJobs := slurm.NewJobs()
	sig := watchSignals(cancel, g, func() { tracker.KillAll() }, slurmJobs)
	defer sig.stop()

	var bar *progress
	stdout, stderr := g.stdout, g.stderr
	if !r.NoProgress && isTerminal(g.stdout) {
		bar = newProgress(g.stdout)
		// Everything the script and its apps write clears the line first.
		stdout = bar.Writer(g.stdout)
		if isTerminal(g.stderr) {
			stderr = bar.Writer(g.stderr)
		}
	}
	session := builtins.NewSession(ctx, builtins.Options{
		RunDirRoot: r.RunDir,
		Workers:    r.Workers,
		Argv:       argv,
		Stdout:     stdout,
		Stderr:     stderr,
		Logger:     logger,
		Config:     cfg,
		OnRunStart: logOut.OpenIn,
		Tracker:    tracker,
		SlurmJobs:  slurmJobs,
		MemoDir:    memoDir,
		FreshMemo:  r.Fresh,
		CodeDigest: prog.CodeDigest,
		Bundle: func(fn *starlark.Function) ([32]byte, []byte, error) {
			b, err := prog.Bundle(fn)
			if err != nil {
				return [32]byte{}, nil, err
			}
			return b.Hash, b.Data, nil
		},
	})
	if bar != nil {
		bar.Start(session)
	}
	start := time.Now()
	_, execErr := prog.Exec(ctx, session)
	if execErr != nil && ctx.Err() == nil {
		// The script stopped: tasks it started still finish, as in Python.
		logger.Error("script failed", "error", execErr)
	}
	kernels, finishErr := session.Finish()
	if bar != nil {
		bar.Stop()
	}
	sum := summarize(kernels, session.RunDirs(), time.Since(start))
	sum.log(logger)
	if finishErr != nil && ctx.Err() == nil {
		logger.Error("shutdown", "error", finishErr)
	}

	code := exitOK
	switch {
	case ctx.Err() != nil:
		code = sig.code()
		fmt.Fprintf(g.stderr, "starflow: interrupted; %s\n", sum.line())
	case execErr != nil:
		fmt.Fprintln(g.stderr, interp.FormatError(execErr))
		code = exitUsage
		var te *dfk.TaskError
		if errors.As(execErr, &te) {
			code = exitTaskFailed
		}
	case len(sum.unseen) > 0:
		code = exitTaskFailed
	}
	if len(sum.unseen) > 0 {
		fmt.Fprint(g.stderr, sum.failureReport())
	}
	recordRunEnd(session, r.Script, code, logger)
	if code == exitUsage && sum.total == 0 {
		// Nothing ran: leave no run folder behind.
		logOut.Discard()
		for _, d := range session.RunDirs() {
			_ = os.RemoveAll(d)
		}
		if !hadRunDir {
			_ = os.Remove(r.RunDir) // only if empty: another run may be using it
		}
	}
	if code != exitOK {
		return &exitError{code}
	}
	return nil
}

// loadConfigFile runs a --config file and returns its `config`.
func loadConfigFile(path string) (*builtins.Config, error) {
	p, err := interp.Compile(path, []string{path})
	if err != nil {
		return nil, err
	}
	session := builtins.NewSession(context.Background(), builtins.Options{})
	globals, err := p.Exec(context.Background(), session)
	if err != nil {
		return nil, err
	}
	v, ok := globals["config"]
	if !ok {
		return nil, fmt.Errorf("%s: defines no 'config'; write config = Config(executors=[...])", path)
	}
	cfg, ok := v.(*builtins.Config)
	if !ok {
		return nil, fmt.Errorf("%s: config is %s, want Config(...)", path, v.Type())
	}
	return cfg, nil
}
