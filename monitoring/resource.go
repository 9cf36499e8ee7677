package monitoring

import (
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// Resource monitoring. Every ResourceInterval the writer samples, from
// /proc, the processes of each running try it can see: the process group
// of a bash app (the shell and everything it started), and this process
// for a python app running in it (a thread-pool slot shares the process
// with every other slot, so their rows carry the same numbers, as Parsl's
// do for a worker's tasks). When a bash app's shell exits, its rusage
// gives one last, exact row. Tries on HTEX workers run in other processes,
// possibly on other nodes: their workers sample them the same way and
// the rows come through RemoteSamples (remote.go).

// procEvent says a bash try's process group started or ended.
type procEvent struct {
	key   tryKey
	pgid  int
	at    int64
	state *os.ProcessState // set when it ended
}

type tryKey struct{ task, try int }

// sideQueue carries to the writer what is not a task transition: bash
// process groups starting and ending, samples taken by workers, blocks
// and nodes changing state. None of it is on the no-op hot path, so plain
// locked slices do.
type sideQueue struct {
	mu      sync.Mutex
	procs   []procEvent
	samples []Sample
	blocks  []BlockEvent
	nodes   []NodeEvent
}

// side is what a sideQueue held, taken at once.
type side struct {
	procs   []procEvent
	samples []Sample
	blocks  []BlockEvent
	nodes   []NodeEvent
}

func (q *sideQueue) pushProc(e procEvent) {
	q.mu.Lock()
	q.procs = append(q.procs, e)
	q.mu.Unlock()
}

func (q *sideQueue) take() side {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := side{procs: q.procs, samples: q.samples, blocks: q.blocks, nodes: q.nodes}
	q.procs, q.samples, q.blocks, q.nodes = nil, nil, nil, nil
	return out
}

// ProcessStarted is called by executors/bash (as its Watcher) when a bash
// try's process group starts; pgid is its leader's pid.
func (r *Recorder) ProcessStarted(task, try, pgid int) {
	if r.opts.Resources {
		r.side.pushProc(procEvent{key: tryKey{task, try}, pgid: pgid, at: r.now()})
	}
}

// ProcessEnded is called when the group's leader was reaped, with its
// exit state (rusage covers the processes it waited for).
func (r *Recorder) ProcessEnded(task, try, pgid int, state *os.ProcessState) {
	if r.opts.Resources && state != nil {
		r.side.pushProc(procEvent{key: tryKey{task, try}, pgid: pgid, at: r.now(), state: state})
	}
}

// resources is the writer's view of what runs now.
type resources struct {
	enabled  bool
	interval float64 // seconds, for resource_monitoring_interval
	python   map[*tryRow]bool
	groups   map[tryKey]*group
	self     counters // this process at the previous sample
	memTotal float64  // bytes, for memory_percent
	pid      int
}

// group is a running bash try's process group.
type group struct {
	pgid    int
	start   int64
	last    counters
	peakRSS float64 // the largest summed RSS a sample saw
}

// counters are the summed numbers of a set of processes at one instant.
type counters struct {
	procstat.Usage
	at int64 // unix ns
}

func (res *resources) init(enabled bool, interval time.Duration) {
	res.enabled = enabled
	res.interval = interval.Seconds()
	res.python = map[*tryRow]bool{}
	res.groups = map[tryKey]*group{}
	res.memTotal = procstat.MemTotal()
	res.pid = os.Getpid()
}

// started notes a try that began running; python tries in this process
// are sampled with the process.
func (res *resources) started(t *taskRow, tr *tryRow, local bool) {
	if res.enabled && res.interval > 0 && local && t.kind == dfk.Python {
		res.python[tr] = true
	}
}

func (res *resources) ended(tr *tryRow) { delete(res.python, tr) }

// proc handles a bash group starting or ending.
func (res *resources) proc(w *writer, p procEvent) {
	if p.state == nil {
		res.groups[p.key] = &group{pgid: p.pgid, start: p.at}
		return
	}
	g := res.groups[p.key]
	delete(res.groups, p.key)
	ru, ok := p.state.SysUsage().(*syscall.Rusage)
	if !ok {
		return
	}
	// CPU and I/O are the leader's and what it waited for, from the
	// kernel's accounting; cpu_percent is over the whole try. ru_maxrss
	// is not used: it counts the starflow image the child was forked
	// from, so the row carries the peak the samples saw, if any.
	c := counters{at: p.at, Usage: procstat.Usage{
		User:   time.Duration(ru.Utime.Nano()).Seconds(),
		System: time.Duration(ru.Stime.Nano()).Seconds(),
		Read:   float64(ru.Inblock) * 512,
		Write:  float64(ru.Oublock) * 512,
		Status: "exited",
		OK:     true,
	}}
	var prev counters
	if g != nil {
		prev = counters{at: g.start, Usage: procstat.Usage{OK: true}}
		c.RSS = g.peakRSS
	}
	w.resource = res.row(w, p.key, p.pgid, c, prev)
}

// sample writes one row per running try it can see; now is unix ns.
func (res *resources) sample(w *writer, now int64) {
	if len(res.python) > 0 {
		c := counters{Usage: procstat.Process(res.pid), at: now}
		for tr := range res.python {
			w.resource = res.row(w, tryKey{tr.task.id, tr.try}, res.pid, c, res.self)
		}
		res.self = c
	}
	if len(res.groups) > 0 {
		want := make(map[int]bool, len(res.groups))
		for _, g := range res.groups {
			want[g.pgid] = true
		}
		byGroup := procstat.Groups(want)
		for key, g := range res.groups {
			u, ok := byGroup[g.pgid]
			if !ok {
				continue // the group ended between the event and this scan
			}
			c := counters{Usage: u, at: now}
			w.resource = res.row(w, key, g.pgid, c, g.last)
			g.last = c
			g.peakRSS = max(g.peakRSS, c.RSS)
		}
	}
}

// row appends one resource row; cpu_percent is over the time since prev.
func (res *resources) row(w *writer, key tryKey, pid int, c, prev counters) []any {
	var cpuPct, memPct any
	if prev.OK && c.at > prev.at {
		cpuPct = 100 * (c.User + c.System - prev.User - prev.System) / time.Duration(c.at-prev.at).Seconds()
	}
	if c.RSS > 0 && res.memTotal > 0 {
		memPct = 100 * c.RSS / res.memTotal
	}
	return res.appendRow(w, key, pid, c.at, c.Usage, cpuPct, memPct)
}

// appendRow appends one resource row; cpuPct and memPct are nil when
// unknown.
func (res *resources) appendRow(w *writer, key tryKey, pid int, at int64, u procstat.Usage, cpuPct, memPct any) []any {
	var children, rss, vsize any
	if u.Procs > 0 {
		children = float64(u.Procs - 1)
	}
	if u.RSS > 0 {
		rss = u.RSS
	}
	if u.VSize > 0 {
		vsize = u.VSize
	}
	return append(w.resource, key.try, key.task, w.formatNS(at), res.interval, pid, cpuPct, memPct, children,
		u.User, u.System, vsize, rss, u.Read, u.Write, w.boxNull(u.Status))
}
