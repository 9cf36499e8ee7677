package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/dfk"
)

// Failures named on the terminal and in the log at the end of a run. The
// terminal gets the first few, the log enough to debug without a flood.
const (
	reportedOnTerminal = 5
	reportedInLog      = 100
)

// summary is what the end of a run reports.
type summary struct {
	total, done, failed int64
	cancelled           int64 // failed because the run was interrupted
	// unseen are the failed tasks the script never looked at, in the order
	// they failed; tasks cancelled by an interrupt are not among them.
	unseen  []*dfk.Future
	elapsed time.Duration
	runDir  string // the last run folder, where the log is
}

func summarize(kernels []*dfk.Kernel, runDirs []string, elapsed time.Duration) summary {
	s := summary{elapsed: elapsed}
	if len(runDirs) > 0 {
		s.runDir = runDirs[len(runDirs)-1]
	}
	for _, k := range kernels {
		c := k.Counts()
		s.total += c.Submitted
		s.done += c.Done
		s.failed += c.Failed
		for _, f := range k.Failures() {
			// An interrupt cancels tasks; that is not news to whoever
			// sent it, and it is reported once, as a count.
			if _, err := f.Outcome(); errors.Is(err, dfk.ErrInterrupted) {
				s.cancelled++
			} else if !f.Observed() {
				s.unseen = append(s.unseen, f)
			}
		}
	}
	return s
}

func (s summary) line() string {
	return fmt.Sprintf("%d tasks: %d done, %d failed, %d cancelled, %d not run, in %.2fs",
		s.total, s.done, s.failed-s.cancelled, s.cancelled, s.total-s.done-s.failed, s.elapsed.Seconds())
}

// log writes the summary and the first unseen failures to the run log.
func (s summary) log(logger hclog.Logger) {
	logger.Info("run finished", "tasks", s.total, "done", s.done, "failed", s.failed-s.cancelled,
		"cancelled", s.cancelled, "unseen_failures", len(s.unseen), "seconds", fmt.Sprintf("%.3f", s.elapsed.Seconds()))
	for i, f := range s.orderedUnseen() {
		if i == reportedInLog {
			logger.Error("more failed tasks not listed", "count", len(s.unseen)-i)
			break
		}
		_, err := f.Outcome()
		logger.Error("task failed unseen", "task_id", f.ID(), "app", f.App(), "error", builtins.FailureSummary(err))
	}
}

// failureReport names the first failures nobody looked at, root causes
// first, with their logs.
func (s summary) failureReport() string {
	var b strings.Builder
	roots := 0
	for _, f := range s.unseen {
		if _, err := f.Outcome(); !isDependencyError(err) {
			roots++
		}
	}
	fmt.Fprintf(&b, "starflow: %d task(s) failed and the script never looked at them (%d failed themselves, %d for a failed dependency):\n",
		len(s.unseen), roots, len(s.unseen)-roots)
	ordered := s.orderedUnseen()
	for i, f := range ordered {
		if i == reportedOnTerminal {
			break
		}
		_, err := f.Outcome()
		fmt.Fprintf(&b, "  %s\n", indent(builtins.FailureSummary(err)))
	}
	if more := len(ordered) - reportedOnTerminal; more > 0 {
		where := "the run log"
		if s.runDir != "" {
			where = s.runDir + "/starflow.log"
		}
		listed := fmt.Sprintf("all %d are listed in %s", len(ordered), where)
		if len(ordered) > reportedInLog {
			listed = fmt.Sprintf("the first %d are listed in %s", reportedInLog, where)
		}
		fmt.Fprintf(&b, "  ... and %d more (%s)\n", more, listed)
	}
	return b.String()
}

// orderedUnseen puts the tasks that failed themselves before those that
// failed for a dependency: the first are the ones to fix.
func (s summary) orderedUnseen() []*dfk.Future {
	out := make([]*dfk.Future, 0, len(s.unseen))
	for pass := 0; pass < 2; pass++ {
		for _, f := range s.unseen {
			if _, err := f.Outcome(); isDependencyError(err) == (pass == 1) {
				out = append(out, f)
			}
		}
	}
	return out
}

func isDependencyError(err error) bool {
	var de *dfk.DependencyError
	return errors.As(err, &de)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
