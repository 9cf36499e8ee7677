package monitoring

import (
	"encoding/hex"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// What the recorder learns besides task transitions: samples that HTEX
// workers took of their tries' processes, provider blocks and worker
// nodes changing state, and memoized tasks' keys. The executors report
// them through callbacks the host (builtins) wires to these methods; each
// only queues what it is given, for the writer's next batch.

// Sample is one sample of a try's processes taken by the worker running
// it, on its node: the resource row is written as it is.
type Sample struct {
	Task, Try int
	At        time.Time
	PID       int // the bash app's process group, or the worker's process for a python app
	procstat.Usage
	// CPUPercent is over the time since the try's previous sample, and
	// MemoryPercent of the node's memory; negative when unknown.
	CPUPercent, MemoryPercent float64
}

// RemoteSamples records samples that workers took; it is a no-op unless
// resource monitoring is on.
func (r *Recorder) RemoteSamples(samples []Sample) {
	if !r.opts.Resources || len(samples) == 0 {
		return
	}
	q := &r.side
	q.mu.Lock()
	q.samples = append(q.samples, samples...)
	q.mu.Unlock()
}

// BlockEvent is a provider block seen in a new state: one block row.
type BlockEvent struct {
	Executor string // the executor's label
	Block    string
	JobID    string // the scheduler's id; "" when it has none
	// Status is Parsl's name for the state (PENDING, RUNNING,
	// COMPLETED, CANCELLED, FAILED, ...).
	Status string
	At     time.Time
}

// BlockStatus records a block's new state.
func (r *Recorder) BlockStatus(e BlockEvent) {
	q := &r.side
	q.mu.Lock()
	q.blocks = append(q.blocks, e)
	q.mu.Unlock()
}

// NodeEvent is a worker process that connected or left: one node row.
type NodeEvent struct {
	Host   string
	UID    string // the executor's id for the worker (try.worker_id)
	Block  string
	Cores  int   // 0 when unknown
	Memory int64 // bytes; 0 when unknown
	// Workers is how many tasks the worker runs at once (its slots).
	Workers int
	Active  bool // false once it left
	At      time.Time
}

// NodeStatus records a worker connecting or leaving.
func (r *Recorder) NodeStatus(e NodeEvent) {
	q := &r.side
	q.mu.Lock()
	q.nodes = append(q.nodes, e)
	q.mu.Unlock()
}

var _ dfk.KeyObserver = (*Recorder)(nil)

// TaskKey records a memoized task's key as its task_hashsum. It goes
// through the events' queue, not the side one, so that it reaches the
// writer before the task's final event and is written with the task.
func (r *Recorder) TaskKey(id int, key dfk.Key) {
	r.push(event{at: r.now(), id: id, note: true, more: &eventMore{key: key, hasKey: true}})
}

// side applies what the side queue held.
func (w *writer) side(s side) {
	for _, p := range s.procs {
		w.res.proc(w, p)
	}
	for i := range s.samples {
		w.remoteSample(&s.samples[i])
	}
	for _, b := range s.blocks {
		w.blocks = append(w.blocks, w.box(b.Executor), w.box(b.Block), nullString(b.JobID),
			w.formatNS(b.At.UnixNano()), w.box(b.Status))
	}
	for _, n := range s.nodes {
		active := int64(0)
		if n.Active {
			active = 1
		}
		ts := w.formatNS(n.At.UnixNano())
		w.nodes = append(w.nodes, w.box(n.Host), nullString(n.UID), nullString(n.Block),
			positive(int64(n.Cores)), positive(n.Memory), active, int64(n.Workers), "starflow", ts, ts)
	}
}

func (w *writer) remoteSample(s *Sample) {
	var cpu, mem any
	if s.CPUPercent >= 0 {
		cpu = s.CPUPercent
	}
	if s.MemoryPercent >= 0 {
		mem = s.MemoryPercent
	}
	w.resource = w.res.appendRow(w, tryKey{s.Task, s.Try}, s.PID, s.At.UnixNano(), s.Usage, cpu, mem)
}

// note applies an event that is not a transition: a memoized task's key.
func (w *writer) note(e *event) {
	t := w.tasks[e.id]
	if t == nil || e.more == nil || !e.more.hasKey {
		return // the task ended already: cannot happen with the kernel's order
	}
	t.hashsum = hex.EncodeToString(e.more.key[:])
	w.touch(t, e.at)
}

// positive is n, or NULL for 0 (unknown).
func positive(n int64) any {
	if n <= 0 {
		return nil
	}
	return n
}
