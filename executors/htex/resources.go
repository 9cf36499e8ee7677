package htex

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// Resource monitoring on the worker. When the interchange's welcome asks
// for it (the run's MonitoringHub has resource_monitoring_interval > 0),
// the worker samples the tries it runs every interval and sends the
// samples, one resource frame per round, with its results: a bash try is
// its app's process group (the shell and everything it started), a
// python try the worker process itself, whose numbers its python tries
// share, as Parsl's rows do for a worker's tasks.
//
// The runner starts bash apps; the worker only knows which try each slot
// runs. So a bash try's group is found as a process group whose leader is
// a child of this process and whose environment's PARSL_WORKER_RANK is the
// try's slot (SlotEnv.Environ puts it there).

// ResourceSample is a worker's sample of the processes of one try it
// runs: the bash app's process group, or the worker process itself for a
// python app (which its other python tries share).
type ResourceSample struct {
	ID, Try int
	At      time.Time // the worker's clock
	PID     int       // the group's leader, or the worker
	procstat.Usage
	// CPUPercent is over the time since the previous sample, and
	// MemoryPercent of the node's memory; negative when unknown.
	CPUPercent, MemoryPercent float64
}

// resources is a batch of samples, one frame per sampling round.
type resources struct{ Samples []ResourceSample }

func (*resources) kind() msgType { return msgResource }

func (r *resources) appendBody(b []byte) []byte {
	b = appendInt(b, len(r.Samples))
	for i := range r.Samples {
		s := &r.Samples[i]
		b = appendInt(b, s.ID)
		b = appendInt(b, s.Try)
		b = binary.AppendVarint(b, s.At.UnixNano())
		b = appendInt(b, s.PID)
		for _, f := range [...]float64{s.User, s.System, s.RSS, s.VSize, s.Read, s.Write, s.CPUPercent, s.MemoryPercent} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
		b = appendInt(b, s.Procs)
		b = appendString(b, s.Status)
	}
	return b
}

// sampleMinSize is the fewest bytes a sample encodes to: a count beyond
// what the frame can hold is a lie, refused before it is allocated.
const sampleMinSize = 4 + 8*8 + 2

func decodeResources(body []byte) (*resources, error) {
	d := decoder{b: body, msg: msgResource}
	n := d.uvarint("count")
	if n > uint64(len(d.b)/sampleMinSize) {
		d.fail("count", "beyond the frame")
	}
	r := &resources{}
	if n > 0 && d.err == nil {
		r.Samples = make([]ResourceSample, n)
	}
	for i := range r.Samples {
		s := &r.Samples[i]
		s.ID, s.Try = d.int("id"), d.int("try")
		s.At = time.Unix(0, d.varint("time"))
		s.PID = d.int("pid")
		for _, f := range [...]*float64{&s.User, &s.System, &s.RSS, &s.VSize, &s.Read, &s.Write, &s.CPUPercent, &s.MemoryPercent} {
			*f = d.float64("usage")
		}
		s.Procs = d.int("processes")
		s.Status = d.string("status")
		s.OK = d.err == nil
	}
	return r, d.done()
}

// maxSamplesPerFrame keeps a resource frame far below the smallest frame
// limit (helloMaxFrame) whatever the number of slots.
const maxSamplesPerFrame = 256

// sampler knows the tries running now and their previous samples.
type sampler struct {
	pid      int
	memTotal float64

	mu      sync.Mutex
	running map[int]*sampledTry // by slot rank

	// Owned by the sampling goroutine.
	self     procstat.Usage // this process at the previous round
	selfAt   time.Time
	previous map[tryRef]sampleRef // each bash try's previous sample
}

type tryRef struct{ id, try int }

type sampledTry struct {
	ref  tryRef
	kind Kind
}

type sampleRef struct {
	u  procstat.Usage
	at time.Time
}

func newSampler() *sampler {
	return &sampler{pid: os.Getpid(), memTotal: procstat.MemTotal(), running: map[int]*sampledTry{},
		previous: map[tryRef]sampleRef{}}
}

// start notes that slot rank runs t from now on.
func (s *sampler) start(rank int, t *Task) {
	s.mu.Lock()
	s.running[rank] = &sampledTry{ref: tryRef{t.ID, t.Try}, kind: t.Kind}
	s.mu.Unlock()
}

// end notes that slot rank's try is over.
func (s *sampler) end(rank int) {
	s.mu.Lock()
	delete(s.running, rank)
	s.mu.Unlock()
}

// loop samples every interval and hands each round's samples to send,
// until ctx ends.
func (s *sampler) loop(ctx context.Context, interval time.Duration, send func([]ResourceSample)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if out := s.round(time.Now()); len(out) > 0 {
			send(out)
		}
	}
}

// round takes one sample of every running try.
func (s *sampler) round(now time.Time) []ResourceSample {
	s.mu.Lock()
	bash := map[int]tryRef{} // by rank
	var python []tryRef
	for rank, st := range s.running {
		if st.kind == KindBash {
			bash[rank] = st.ref
		} else {
			python = append(python, st.ref)
		}
	}
	s.mu.Unlock()

	var out []ResourceSample
	if len(python) > 0 {
		u := procstat.Process(s.pid)
		cpu := s.cpuPercent(u, now, s.self, s.selfAt)
		for _, ref := range python {
			out = append(out, s.sample(ref, now, s.pid, u, cpu))
		}
		s.self, s.selfAt = u, now
	}
	seen := map[tryRef]bool{}
	if len(bash) > 0 {
		procs := procstat.All()
		groups := s.groupsByTry(procs, bash)
		want := make(map[int]bool, len(groups))
		for pgid := range groups {
			want[pgid] = true
		}
		usage := procstat.GroupsIn(procs, want)
		for pgid, ref := range groups {
			u, ok := usage[pgid]
			if !ok {
				continue
			}
			prev := s.previous[ref]
			out = append(out, s.sample(ref, now, pgid, u, s.cpuPercent(u, now, prev.u, prev.at)))
			s.previous[ref] = sampleRef{u, now}
			seen[ref] = true
		}
	}
	for ref := range s.previous {
		if !seen[ref] {
			delete(s.previous, ref) // the try ended
		}
	}
	return out
}

// groupsByTry finds the process group of each bash try: a group led by a
// child of this process, whose PARSL_WORKER_RANK names the try's slot.
func (s *sampler) groupsByTry(procs []procstat.Proc, byRank map[int]tryRef) map[int]tryRef {
	out := map[int]tryRef{}
	for _, p := range procs {
		if p.PPID != s.pid || p.PID != p.PGRP {
			continue
		}
		v, ok := procstat.Getenv(p.PID, "PARSL_WORKER_RANK")
		if !ok {
			continue // not a slot's app, or just started: its environment reads empty for a moment
		}
		rank, err := strconv.Atoi(v)
		if ref, found := byRank[rank]; err == nil && found {
			out[p.PID] = ref
		}
	}
	return out
}

func (s *sampler) sample(ref tryRef, now time.Time, pid int, u procstat.Usage, cpu float64) ResourceSample {
	mem := -1.0
	if s.memTotal > 0 && u.RSS > 0 {
		mem = 100 * u.RSS / s.memTotal
	}
	return ResourceSample{ID: ref.id, Try: ref.try, At: now, PID: pid, Usage: u, CPUPercent: cpu, MemoryPercent: mem}
}

// cpuPercent is the CPU time u gained since prev, over the wall time
// since then; -1 without a previous sample.
func (s *sampler) cpuPercent(u procstat.Usage, now time.Time, prev procstat.Usage, prevAt time.Time) float64 {
	if !prev.OK || !now.After(prevAt) {
		return -1
	}
	return 100 * (u.User + u.System - prev.User - prev.System) / now.Sub(prevAt).Seconds()
}

// startSampling starts the sampler if the interchange asked for samples;
// the function it returns stops it and waits for it.
func (w *worker) startSampling(ctx context.Context) (stop func()) {
	iv := w.wel.ResourceInterval
	if iv <= 0 {
		return func() {}
	}
	w.sampler = newSampler()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.sampler.loop(ctx, iv, w.queueSamples)
	}()
	return func() {
		cancel()
		<-done
	}
}

// queueSamples queues a round of resource samples for the writer, which
// sends them with the next results.
func (w *worker) queueSamples(samples []ResourceSample) {
	w.mu.Lock()
	w.samples = append(w.samples, samples...)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}
