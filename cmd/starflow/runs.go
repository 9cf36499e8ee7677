package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/monitoring"
)

type runsCmd struct {
	Runinfo string `help:"Folder holding the run folders (NNN/)." default:"runinfo" placeholder:"DIR"`
}

func (r *runsCmd) Help() string {
	return `Lists the runs recorded under runinfo/, oldest first: one line per run
with its id (the folder's number), script, start, duration, tasks done and
failed, and exit status.

A run recorded with monitoring on is read from its monitoring.db, others
from run.json and starflow.log. A run that is still going, or was killed
before it could record its end, shows "-" for what is not known yet.

Examples:

  starflow runs
  starflow runs --runinfo /scratch/me/sweep/runinfo`
}

func (r *runsCmd) Run(g *globals) error {
	runs, err := monitoring.ListRuns(context.Background(), r.Runinfo)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--runinfo: no folder %s: run a script with `starflow run` first, or name the folder that holds its runs", r.Runinfo)
	}
	if err != nil {
		return fmt.Errorf("--runinfo %s: %w", r.Runinfo, err)
	}
	if len(runs) == 0 {
		fmt.Fprintf(g.stderr, "starflow: no runs in %s\n", r.Runinfo)
		return nil
	}
	printRuns(g.stdout, runs)
	return nil
}

// printRuns writes the table, one run a line.
func printRuns(w io.Writer, runs []monitoring.Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSCRIPT\tSTART\tDURATION\tTASKS\tDONE\tFAILED\tEXIT")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", r.ID, dashIfEmpty(r.Script), startOf(r), durationOf(r),
			r.Tasks, r.Done, r.Failed, exitOf(r))
	}
	tw.Flush()
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func startOf(r monitoring.Run) string {
	if r.Start.IsZero() {
		return "-"
	}
	return r.Start.Local().Format("2006-01-02 15:04:05")
}

func durationOf(r monitoring.Run) string {
	d := r.Duration()
	if d <= 0 {
		return "-"
	}
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return d.Round(time.Second).String()
}

func exitOf(r monitoring.Run) string {
	if r.ExitStatus == nil {
		return "-"
	}
	return strconv.Itoa(*r.ExitStatus)
}

// recordRunEnd writes run.json into each run folder of the session, so
// that `starflow runs` knows how the run ended: `run` calls it once the
// exit status is known. A record that cannot be written is logged and
// changes nothing else: the run's outcome stands.
func recordRunEnd(session *builtins.Session, script string, code int, logger hclog.Logger) {
	end := time.Now()
	for _, info := range session.Runs() {
		c := info.Kernel.Counts()
		err := monitoring.WriteRecord(info.Dir, monitoring.Record{
			Script: filepath.Base(script), Start: info.Start, End: end,
			Tasks: c.Submitted, Done: c.Done, Failed: c.Failed, ExitStatus: code,
		})
		if err != nil {
			logger.Warn("run record not written", "run_dir", info.Dir, "error", err)
		}
	}
}
