// Package dfk is starflow's DataFlowKernel: it turns app calls into a
// dynamic DAG of tasks, launches each task on an executor once every future
// it depends on has finished, retries failures, resolves join apps and tells
// the caller which failures nobody looked at.
//
// The kernel knows nothing about Starlark. A task is opaque: the caller hands
// over the futures it depends on and a Run function that computes its value
// once they are done. This file holds every contract the kernel has with the
// rest of starflow.
package dfk

import (
	"context"
	"time"
)

// Kind says where a task's body runs.
type Kind uint8

const (
	// Python apps run on the task's executor.
	Python Kind = iota
	// Bash apps run on the task's executor as child processes.
	Bash
	// Join apps run in the submitting process, on a goroutine of their
	// own, because they may block on other futures; their Run may return a
	// *Join that the kernel resolves before the task completes.
	JoinApp
)

func (k Kind) String() string {
	switch k {
	case Python:
		return "python"
	case Bash:
		return "bash"
	case JoinApp:
		return "join"
	}
	return "unknown"
}

// Spec is what the caller knows about a task when it submits it.
type Spec struct {
	App      string // the app's name, for errors, logs and the summary
	Kind     Kind
	Executor string // label of the executor; "" picks the kernel's default

	// Deps are the futures the task waits on. Run is called only after all
	// of them succeeded; if one fails the task fails with a
	// *DependencyError and Run is never called. Duplicates are allowed.
	Deps []*Future

	// Run computes the task's value. It must honour ctx: cancellation
	// means the run was interrupted. env says which slot runs it.
	Run func(ctx context.Context, env Env) (any, error)

	// Key, when set and the kernel has a Memoizer, makes the task
	// memoized: called once the deps succeeded, it returns the key of the
	// task's work. An error means "do not memoize this call".
	Key func() (Key, error)

	// Payload is what a remote executor sends instead of running Run in
	// this process (executors/htex defines what it must implement). The
	// kernel passes it through untouched.
	Payload any

	// Walltime, when positive, bounds one try. Enforcing it is Run's job
	// (a bash app kills its process group, a python app cancels its
	// thread); the kernel only records it.
	Walltime time.Duration

	// Logs, when set, names the files a bash app's stdout and stderr go
	// to ("" for none), given the task's id, which parsl.AUTO_LOGNAME
	// names them after. The kernel calls it only when it has an
	// Observer, for the Pending event.
	Logs func(id int) (stdout, stderr string)
}

// Env describes the slot a try runs in.
type Env struct {
	ID   int // the task id
	Rank int // PARSL_WORKER_RANK: the slot's index within its executor
	Try  int // 0 for the first try
}

// Job is one try of a task, handed to an executor.
type Job struct {
	ID   int
	Try  int
	App  string
	Kind Kind
	Run  func(ctx context.Context, env Env) (any, error)
	// Payload is the Spec's Payload, for remote executors.
	Payload any

	t *task
}

// Finish reports the try's outcome. An executor calls it exactly once per
// Job, from any goroutine, after Started.
func (j *Job) Finish(value any, err error) { j.finishTry(value, err) }

// Executor runs jobs. Implementations live in executors/; the kernel owns
// their lifetime: Start before the first Submit, Shutdown after the last
// Finish (or on interrupt, when it must stop running jobs promptly).
type Executor interface {
	Label() string
	Start(ctx context.Context) error
	// Submit queues a job and returns at once; the executor calls
	// job.Finish when the try ends. Submit must not block on other jobs.
	Submit(job *Job)
	Shutdown(ctx context.Context) error
}

// Join is what a join app's Run returns when it hands back futures
// instead of a value: the task completes when they do.
type Join struct {
	Futures []*Future
	// List says the join app returned a list: a failure among the futures
	// is a JoinError. Otherwise there is one future and the task fails as
	// it did (Parsl's semantics).
	List bool
	// Combine builds the task's value from the futures' values, in order.
	// Nil means the task's value is the first future's value.
	Combine func(values []any) any
}

// RetryHandler prices a failed try: the task is retried while the sum of
// its costs stays within Config.Retries. Parsl's retry_handler(exception,
// task_record). A handler error fails the task with that error.
type RetryHandler func(err error, info TaskInfo) (float64, error)

// TaskInfo is the read-only view of a task that a RetryHandler and the
// failure summary see.
type TaskInfo struct {
	ID        int
	App       string
	Executor  string
	FailCount int
	FailCost  float64
	Try       int
}

// Observer receives task lifecycle events (progress line, monitoring
// database). It is called synchronously on the hot path, so it must be
// cheap and must not block: copy what it needs and hand it off.
type Observer interface {
	TaskEvent(e Event)
}

// Event is one task transition, passed by value: a pointer would escape
// through the interface and cost a heap allocation per transition, four
// per task. Deps and Err are shared with the kernel and must not be
// changed.
type Event struct {
	ID       int
	App      string
	Kind     Kind
	Executor string // the label the task is routed to; "" is the default executor
	State    State
	Try      int
	// Deps holds the ids of the futures the task waits on; set on Pending.
	Deps []int
	// Memo says the task is memoized (cache=True); set on Pending.
	Memo bool
	// Err is the failure on Failed and DepFail, and on Launched after a
	// failed try it is the error being retried.
	Err error
	// Where says where a Running try runs, when the executor knows.
	Where Where
	// Stdout and Stderr are the files a bash app writes, as Spec.Logs
	// names them; set on Pending.
	Stdout, Stderr string
}

// KeyObserver is an Observer that also learns the key of each memoized
// task (monitoring's task_hashsum) once the kernel has computed it, which
// is after the task's Pending event and before its final one. It is
// called from the kernel's memo stage, so it must be as cheap as
// TaskEvent.
type KeyObserver interface {
	TaskKey(id int, key Key)
}

// Where is the slot a try runs in, as an executor reports it through
// Job.StartedOn: which block and host, and which worker within them.
type Where struct {
	Block  string // the provider block id ("" in-process)
	Host   string
	Worker string // the executor's id for the worker process or slot
}

// ResourceLost is implemented by errors that say a try was lost with the
// resources running it (a worker's block ended, a node failed) rather
// than failed by the task: the kernel retries such a try without
// charging the task's retries, up to Config.LostRetries times.
type ResourceLost interface {
	error
	ResourceLost() bool
}

// DefaultLostRetries is what a run uses for Config.LostRetries: a task
// whose tries keep losing their resources (it crashes its worker every
// time) must fail eventually rather than take down block after block.
const DefaultLostRetries = 3
