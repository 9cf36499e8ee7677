package providers

// JobState is a block's place in its scheduler's lifecycle, with Slurm's
// distinctions kept (a walltime, a node failure and a cancellation are
// different endings):
//
//	Submit ──► Pending ──► Running ──► Completing ──┬─► Completed
//	              │            │                     ├─► Failed | Timeout | NodeFail
//	              └────────────┴──────────────────── ├─► Cancelled | Preempted
//	                                                 ├─► OutOfMemory
//	                                                 └─► Lost
//
// Unknown is the zero value and means "could not tell right now" (a
// failed or hung status call, a job the scheduler forgot without
// accounting): it is never taken for an ending. Lost is the executor's
// verdict on a job the scheduler forgot (Status.Gone) whose workers never
// said goodbye: it has ended, and how is not known, so it is neither
// Completed nor any of Slurm's named failures.
type JobState uint8

const (
	Unknown JobState = iota
	Pending
	Running
	Completing // ending: no longer serves work, not yet gone
	Completed
	Cancelled
	Failed
	Timeout
	NodeFail
	Preempted
	OutOfMemory
	Lost
)

// Names are Slurm's (and Parsl's), so logs read like squeue.
var stateNames = [...]string{"UNKNOWN", "PENDING", "RUNNING", "COMPLETING", "COMPLETED",
	"CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "LOST"}

func (s JobState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// Terminal reports whether the job has ended for good.
func (s JobState) Terminal() bool { return s >= Completed }

// Active reports whether the job holds or waits for resources that may
// serve work: Pending, Running, and Unknown, because a job whose state is
// unknown may well be running and must still count against max_blocks.
func (s JobState) Active() bool { return s == Unknown || s == Pending || s == Running }
