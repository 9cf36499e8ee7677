package slurm

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/starflow-hpc/starflow/providers"
)

// DefaultRegexJobID is Parsl's regex_job_id: how sbatch's answer names the
// job.
const DefaultRegexJobID = `Submitted batch job (?P<id>\S*)`

// compileJobID compiles regex_job_id, which must have a group named id.
func compileJobID(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regex_job_id: %v; want a regular expression with a group (?P<id>...)", err)
	}
	if re.SubexpIndex("id") < 0 {
		return nil, fmt.Errorf("regex_job_id: %q has no group named id; want e.g. %q", expr, DefaultRegexJobID)
	}
	return re, nil
}

// parseJobID finds the job id in sbatch's stdout.
func parseJobID(re *regexp.Regexp, stdout string) (string, error) {
	m := re.FindStringSubmatch(stdout)
	if m == nil || m[re.SubexpIndex("id")] == "" {
		return "", fmt.Errorf("no job id in sbatch's answer %q (regex_job_id %q)", strings.TrimSpace(stdout), re.String())
	}
	return m[re.SubexpIndex("id")], nil
}

// squeueFormat asks for the job id, the compact state code and the
// reason, which says why a pending job waits (PartitionNodeLimit,
// Resources, ...).
const squeueFormat = "%i %t %r"

// squeueLine is one job as squeue reports it.
type squeueLine struct {
	code, reason string
}

// parseSqueue reads `squeue --noheader --format="%i %t %r"`. Lines that
// are not jobs (the "CLUSTER: name" headers of --clusters) are skipped.
func parseSqueue(out string) map[string]squeueLine {
	jobs := make(map[string]squeueLine)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasSuffix(f[0], ":") {
			continue
		}
		jobs[f[0]] = squeueLine{code: f[1], reason: strings.Join(f[2:], " ")}
	}
	return jobs
}

// squeueStates maps squeue's compact state codes (squeue(1), JOB STATE
// CODES). Suspended and stopped jobs hold their nodes but serve nothing
// until resumed; they count as waiting.
var squeueStates = map[string]providers.JobState{
	"PD": providers.Pending, "CF": providers.Pending, "RD": providers.Pending,
	"RF": providers.Pending, "RH": providers.Pending, "RQ": providers.Pending,
	"S": providers.Pending, "ST": providers.Pending,
	"R": providers.Running, "RS": providers.Running,
	"CG": providers.Completing, "SI": providers.Completing, "SO": providers.Completing,
	"CD": providers.Completed,
	"CA": providers.Cancelled, "RV": providers.Cancelled,
	"F": providers.Failed, "BF": providers.Failed, "SE": providers.Failed,
	"TO": providers.Timeout, "DL": providers.Timeout,
	"NF":  providers.NodeFail,
	"PR":  providers.Preempted,
	"OOM": providers.OutOfMemory,
}

// sacctStates maps sacct's long state names, the first word of its State
// column ("CANCELLED by 1000").
var sacctStates = map[string]providers.JobState{
	"PENDING": providers.Pending, "REQUEUED": providers.Pending, "SUSPENDED": providers.Pending,
	"RUNNING": providers.Running, "RESIZING": providers.Running,
	"COMPLETING": providers.Completing,
	"COMPLETED":  providers.Completed,
	"CANCELLED":  providers.Cancelled, "REVOKED": providers.Cancelled,
	"FAILED": providers.Failed, "BOOT_FAIL": providers.Failed,
	"TIMEOUT": providers.Timeout, "DEADLINE": providers.Timeout,
	"NODE_FAIL":     providers.NodeFail,
	"PREEMPTED":     providers.Preempted,
	"OUT_OF_MEMORY": providers.OutOfMemory,
}

// squeueStatus turns one squeue line into a Status; a pending job's
// Message is Slurm's reason for the wait.
func squeueStatus(l squeueLine) providers.Status {
	st, ok := squeueStates[l.code]
	if !ok {
		return providers.Status{State: providers.Unknown, Message: fmt.Sprintf("squeue state code %q is not one starflow knows", l.code)}
	}
	if st == providers.Pending && l.reason != "" && l.reason != "None" {
		return providers.Status{State: st, Message: l.reason}
	}
	return providers.Status{State: st}
}

// parseSacct reads `sacct -X --noheader --parsable2 --format=JobID,State`.
func parseSacct(out string) map[string]providers.Status {
	jobs := make(map[string]providers.Status)
	for _, line := range strings.Split(out, "\n") {
		id, state, ok := strings.Cut(strings.TrimSpace(line), "|")
		if !ok {
			continue
		}
		word, _, _ := strings.Cut(state, " ")
		st, known := sacctStates[word]
		if !known {
			jobs[id] = providers.Status{State: providers.Unknown, Message: fmt.Sprintf("sacct state %q is not one starflow knows", state)}
			continue
		}
		jobs[id] = providers.Status{State: st, Message: "from sacct: " + state}
	}
	return jobs
}

// errNoAccounting is sacct's answer on a cluster without accounting;
// asking again would not change it.
var errNoAccounting = errors.New("Slurm accounting storage is disabled")

// invalidJobID is squeue's complaint when the only job asked for has left
// its table; it means "no such job", not a failed call.
const invalidJobID = "Invalid job id specified"
