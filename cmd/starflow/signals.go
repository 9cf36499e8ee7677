package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// signals turns SIGINT/SIGTERM into a cancelled run, which stops launching
// tasks and kills running bash apps; a second signal exits at once, for
// when stopping takes longer than the user will wait. Exiting at once
// skips the executors' shutdown, so before it the Slurm jobs starflow
// submitted are cancelled (one scancel, bounded): a job left queued would
// hold nodes and the user's allocation for nothing.
type signals struct {
	ch     chan os.Signal
	done   chan struct{}
	got    chan os.Signal // the first signal, once it came
	cancel context.CancelCauseFunc
	stderr io.Writer
	exit   func(code int)
	// beforeExit runs before a second signal exits: it kills what must
	// not outlive starflow (bash apps' process groups).
	beforeExit func()
	// slurmJobs are the Slurm jobs the run submitted, cancelled before a
	// second signal exits; nil when there are none to track.
	slurmJobs *slurm.Jobs
}

func watchSignals(cancel context.CancelCauseFunc, g *globals, beforeExit func(), jobs *slurm.Jobs) *signals {
	s := newSignals(cancel, g.stderr, os.Exit)
	s.beforeExit, s.slurmJobs = beforeExit, jobs
	signal.Notify(s.ch, syscall.SIGINT, syscall.SIGTERM)
	go s.loop()
	return s
}

func newSignals(cancel context.CancelCauseFunc, stderr io.Writer, exit func(int)) *signals {
	return &signals{
		ch:     make(chan os.Signal, 2),
		done:   make(chan struct{}),
		got:    make(chan os.Signal, 1),
		cancel: cancel,
		stderr: stderr,
		exit:   exit,
	}
}

func (s *signals) loop() {
	select {
	case sig := <-s.ch:
		s.got <- sig
		s.cancel(dfk.ErrInterrupted)
	case <-s.done:
		return
	}
	select {
	case sig := <-s.ch:
		fmt.Fprintln(s.stderr, "starflow: second signal, exiting now")
		if s.beforeExit != nil {
			s.beforeExit()
		}
		cancelSlurmJobs(s.slurmJobs, s.stderr)
		s.exit(codeOf(sig))
	case <-s.done:
	}
}

func (s *signals) stop() {
	signal.Stop(s.ch)
	close(s.done)
}

// code is the exit status for the first signal.
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

// slurmCancelWait bounds the scancel of a hard exit: the user asked to
// exit now, and a hung controller must not undo that.
const slurmCancelWait = 5 * time.Second

// cancelSlurmJobs scancels the jobs this process submitted and has not
// seen end, saying so on stderr.
func cancelSlurmJobs(registry *slurm.Jobs, stderr io.Writer) {
	if registry == nil {
		return
	}
	jobs := registry.Live()
	if len(jobs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), slurmCancelWait)
	defer cancel()
	if err := registry.CancelAll(ctx, nil); err != nil {
		fmt.Fprintf(stderr, "starflow: could not cancel Slurm jobs %v: %v\n", jobs, err)
		return
	}
	fmt.Fprintf(stderr, "starflow: cancelled Slurm jobs %v\n", jobs)
}
