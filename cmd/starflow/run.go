package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/interp"
)

type runCmd struct {
	Script     string   `arg:"" help:"Workflow script (.star, or a Parsl .py)." placeholder:"SCRIPT"`
	Args       []string `arg:"" optional:"" passthrough:"" help:"Arguments for the script: argv (and sys.argv) is [SCRIPT, ARGS...]." placeholder:"ARGS"`
	Config     string   `help:"Starlark file defining 'config = Config(...)'; replaces the configuration the script loads." placeholder:"FILE" type:"path"`
	Workers    int      `help:"Size of the default thread pool (default: number of cores)." placeholder:"N"`
	RunDir     string   `help:"Folder for run records; each run gets NNN/ inside it." default:"runinfo" placeholder:"DIR"`
	LogLevel   string   `help:"Level of runinfo/NNN/starflow.log: trace, debug, info, warn, error." default:"info" enum:"trace,debug,info,warn,error" placeholder:"LEVEL"`
	NoProgress bool     `help:"Do not show the live progress line (it is shown only on a terminal anyway)."`
}

func (r *runCmd) Help() string {
	return `Runs SCRIPT to completion: every app call becomes a task that runs once
the futures it was given are done. Script output goes to stdout; a live
progress line to the terminal; the run's log to runinfo/NNN/starflow.log.

Exit status: 0 all well; 1 a task failed and the script never looked at
its future; 2 the script or its configuration is wrong; 130/143 stopped by
SIGINT/SIGTERM (a second Ctrl-C exits at once).`
}

func (r *runCmd) Run(g *globals) error {
	if r.Workers < 0 {
		return fmt.Errorf("--workers: got %d, want 1 or more (0 means one per core)", r.Workers)
	}
	argv := append([]string{r.Script}, r.Args...)
	prog, err := interp.Compile(r.Script, argv)
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

	logOut := newLogSink()
	defer logOut.Close()
	level := hclog.LevelFromString(r.LogLevel)
	logger := hclog.New(&hclog.LoggerOptions{Name: "starflow", Level: level, Output: logOut, TimeFormat: "2006-01-02 15:04:05.000"})

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sig := watchSignals(cancel, g)
	defer sig.stop()

	var bar *progress
	stdout := g.stdout
	if !r.NoProgress && isTerminal(g.stdout) {
		bar = newProgress(g.stdout)
		stdout = bar.Writer()
	}
	session := builtins.NewSession(ctx, builtins.Options{
		RunDirRoot: r.RunDir,
		Workers:    r.Workers,
		Argv:       argv,
		Stdout:     stdout,
		Stderr:     g.stderr,
		Logger:     logger,
		Config:     cfg,
		OnRunStart: logOut.OpenIn,
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
	sum := summarize(kernels, time.Since(start))
	logger.Info("run finished", "tasks", sum.total, "done", sum.done, "failed", sum.failed,
		"unseen_failures", len(sum.unseen), "seconds", fmt.Sprintf("%.3f", sum.elapsed.Seconds()))
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
	if code == exitUsage && sum.total == 0 {
		// Nothing ran: leave no run folder behind.
		logOut.Discard()
		for _, d := range session.RunDirs() {
			_ = os.RemoveAll(d)
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

// signals turns SIGINT/SIGTERM into a cancelled run; a second signal exits
// at once.
type signals struct {
	ch   chan os.Signal
	done chan struct{}
	got  chan os.Signal
}

func watchSignals(cancel context.CancelCauseFunc, g *globals) *signals {
	s := &signals{ch: make(chan os.Signal, 2), done: make(chan struct{}), got: make(chan os.Signal, 1)}
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-s.ch:
			s.got <- sig
			cancel(dfk.ErrInterrupted)
		case <-s.done:
			return
		}
		select {
		case sig := <-s.ch:
			fmt.Fprintln(g.stderr, "starflow: second signal, exiting now")
			os.Exit(codeOf(sig))
		case <-s.done:
		}
	}()
	return s
}

func (s *signals) stop() {
	signal.Stop(s.ch)
	close(s.done)
}

func (s *signals) code() int {
	select {
	case sig := <-s.got:
		s.got <- sig
		return codeOf(sig)
	default:
		return exitInterrupted
	}
}

func codeOf(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// summary is what the end of a run reports.
type summary struct {
	total, done, failed int64
	unseen              []*dfk.Future
	elapsed             time.Duration
}

func summarize(kernels []*dfk.Kernel, elapsed time.Duration) summary {
	s := summary{elapsed: elapsed}
	for _, k := range kernels {
		c := k.Counts()
		s.total += c.Submitted
		s.done += c.Done
		s.failed += c.Failed
		s.unseen = append(s.unseen, k.Unseen()...)
	}
	return s
}

func (s summary) line() string {
	return fmt.Sprintf("%d tasks: %d done, %d failed, %d not run, in %.2fs",
		s.total, s.done, s.failed, s.total-s.done-s.failed, s.elapsed.Seconds())
}

// failureReport names the first failures nobody looked at, root causes
// first, with their logs.
func (s summary) failureReport() string {
	var b strings.Builder
	roots, deps := 0, 0
	for _, f := range s.unseen {
		if _, err := f.Outcome(); isDependencyError(err) {
			deps++
		} else {
			roots++
		}
	}
	fmt.Fprintf(&b, "starflow: %d task(s) failed and the script never looked at them (%d failed themselves, %d for a failed dependency):\n", len(s.unseen), roots, deps)
	shown := 0
	for pass := 0; pass < 2 && shown < 5; pass++ {
		for _, f := range s.unseen {
			_, err := f.Outcome()
			if isDependencyError(err) != (pass == 1) {
				continue
			}
			if shown == 5 {
				break
			}
			shown++
			fmt.Fprintf(&b, "  %s\n", indent(builtins.FailureSummary(err)))
		}
	}
	if len(s.unseen) > shown {
		fmt.Fprintf(&b, "  ... and %d more (see starflow.log in the run folder)\n", len(s.unseen)-shown)
	}
	return b.String()
}

func isDependencyError(err error) bool {
	var de *dfk.DependencyError
	return errors.As(err, &de)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
