package monitoring

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// Resource monitoring. Every ResourceInterval the writer samples, from
// /proc, the processes of each running try it can see: the process group
// of a bash app (the shell and everything it started), and this process
// for a python app running in it (a thread-pool slot shares the process
// with every other slot, so their rows carry the same numbers, as Parsl's
// do for a worker's tasks). When a bash app's shell exits, its rusage
// gives one last, exact row. Tries on HTEX workers run in other processes
// and are not sampled here.

// clockTicks is USER_HZ, the unit of CPU times in /proc/<pid>/stat: 100 on
// every Linux architecture Go supports (sysconf needs cgo).
const clockTicks = 100

// procEvent says a bash try's process group started or ended.
type procEvent struct {
	key   tryKey
	pgid  int
	at    int64
	state *os.ProcessState // set when it ended
}

type tryKey struct{ task, try int }

// procQueue carries procEvents from the goroutines running bash apps to
// the writer; it is not on the no-op hot path, a plain locked slice does.
type procQueue struct {
	mu  sync.Mutex
	evs []procEvent
}

func (q *procQueue) push(e procEvent) {
	q.mu.Lock()
	q.evs = append(q.evs, e)
	q.mu.Unlock()
}

func (q *procQueue) take() []procEvent {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.evs
	q.evs = nil
	return out
}

// ProcessStarted is called by executors/bash (as its Watcher) when a bash
// try's process group starts; pgid is its leader's pid.
func (r *Recorder) ProcessStarted(task, try, pgid int) {
	if r.opts.Resources {
		r.procs.push(procEvent{key: tryKey{task, try}, pgid: pgid, at: r.now()})
	}
}

// ProcessEnded is called when the group's leader was reaped, with its
// exit state (rusage covers the processes it waited for).
func (r *Recorder) ProcessEnded(task, try, pgid int, state *os.ProcessState) {
	if r.opts.Resources && state != nil {
		r.procs.push(procEvent{key: tryKey{task, try}, pgid: pgid, at: r.now(), state: state})
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
	at           int64 // unix ns
	user, system float64
	rss, vsize   float64
	read, write  float64
	procs        int
	status       string
	ok           bool
}

func (res *resources) init(enabled bool, interval time.Duration) {
	res.enabled = enabled
	res.interval = interval.Seconds()
	res.python = map[*tryRow]bool{}
	res.groups = map[tryKey]*group{}
	res.memTotal = memTotal()
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
	c := counters{
		at:     p.at,
		user:   time.Duration(ru.Utime.Nano()).Seconds(),
		system: time.Duration(ru.Stime.Nano()).Seconds(),
		read:   float64(ru.Inblock) * 512,
		write:  float64(ru.Oublock) * 512,
		status: "exited",
		ok:     true,
	}
	var prev counters
	if g != nil {
		prev = counters{at: g.start, ok: true}
		c.rss = g.peakRSS
	}
	w.resource = res.row(w, p.key, p.pgid, c, prev)
}

// sample writes one row per running try it can see; now is unix ns.
func (res *resources) sample(w *writer, now int64) {
	if len(res.python) > 0 {
		var c counters
		if st, ok := readStat(res.pid); ok {
			c.add(res.pid, st, true)
		}
		c.at = now
		for tr := range res.python {
			w.resource = res.row(w, tryKey{tr.task.id, tr.try}, res.pid, c, res.self)
		}
		res.self = c
	}
	if len(res.groups) > 0 {
		byGroup := readGroups(res.groups)
		for key, g := range res.groups {
			c := byGroup[g.pgid]
			if !c.ok {
				continue // the group ended between the event and this scan
			}
			c.at = now
			w.resource = res.row(w, key, g.pgid, c, g.last)
			g.last = c
			g.peakRSS = max(g.peakRSS, c.rss)
		}
	}
}

// row appends one resource row; cpu_percent is over the time since prev.
func (res *resources) row(w *writer, key tryKey, pid int, c, prev counters) []any {
	var cpuPct, memPct, children, rss any
	if prev.ok && c.at > prev.at {
		cpuPct = 100 * (c.user + c.system - prev.user - prev.system) / time.Duration(c.at-prev.at).Seconds()
	}
	if c.rss > 0 {
		rss = c.rss
		if res.memTotal > 0 {
			memPct = 100 * c.rss / res.memTotal
		}
	}
	if c.procs > 0 {
		children = float64(c.procs - 1)
	}
	var vsize any
	if c.vsize > 0 {
		vsize = c.vsize
	}
	return append(w.resource, key.try, key.task, w.formatNS(c.at), res.interval, pid, cpuPct, memPct, children,
		c.user, c.system, vsize, rss, c.read, c.write, c.status)
}

// readGroups sums the processes of each group in groups, in one pass
// over /proc.
func readGroups(groups map[tryKey]*group) map[int]counters {
	want := make(map[int]bool, len(groups))
	for _, g := range groups {
		want[g.pgid] = true
	}
	out := map[int]counters{}
	forEachProc(func(pid int, st procStat) {
		if !want[st.pgrp] {
			return
		}
		c := out[st.pgrp]
		c.add(pid, st, pid == st.pgrp)
		out[st.pgrp] = c
	})
	return out
}

func (c *counters) add(pid int, st procStat, leader bool) {
	c.ok = true
	c.procs++
	// cutime/cstime hold the children a process reaped: a finished
	// command of the script still counts, and is not counted twice since
	// it is no longer in /proc.
	c.user += float64(st.utime+st.cutime) / clockTicks
	c.system += float64(st.stime+st.cstime) / clockTicks
	c.rss += float64(st.rssPages) * float64(os.Getpagesize())
	c.vsize += float64(st.vsize)
	r, w := readIO(pid)
	c.read += r
	c.write += w
	if leader {
		c.status = st.status()
	}
}

// procStat is what resource monitoring reads of /proc/<pid>/stat.
type procStat struct {
	state                        byte
	pgrp                         int
	utime, stime, cutime, cstime int64
	vsize, rssPages              int64
}

// status is psutil's name for the process state.
func (st procStat) status() string {
	switch st.state {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "disk-sleep"
	case 'Z':
		return "zombie"
	case 'T':
		return "stopped"
	case 't':
		return "tracing-stop"
	case 'I':
		return "idle"
	case 'X', 'x':
		return "dead"
	}
	return string(st.state)
}

// forEachProc calls fn for every process whose stat it can read.
func forEachProc(fn func(pid int, st procStat)) {
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok {
			fn(pid, st)
		}
	}
}

// readStat parses /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	return parseStat(b)
}

func parseStat(b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+2:])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return procStat{}, false
	}
	n := func(field int) int64 {
		v, _ := strconv.ParseInt(string(f[field-3]), 10, 64)
		return v
	}
	return procStat{
		state: f[0][0], pgrp: int(n(5)),
		utime: n(14), stime: n(15), cutime: n(16), cstime: n(17),
		vsize: n(23), rssPages: n(24),
	}, true
}

// readIO returns read_bytes and write_bytes of /proc/<pid>/io: what the
// process made the storage layer read and write. It is 0, 0 when the
// file is not readable (another user's process).
func readIO(pid int) (read, write float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		k, v, ok := bytes.Cut(line, []byte(": "))
		if !ok {
			continue
		}
		x, _ := strconv.ParseFloat(string(v), 64)
		switch string(k) {
		case "read_bytes":
			read = x
		case "write_bytes":
			write = x
		}
	}
	return read, write
}

// memTotal is the machine's memory in bytes, 0 if unknown.
func memTotal() float64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("MemTotal:")); ok {
			f := bytes.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(string(f[0]), 64)
				return kb * 1024
			}
		}
	}
	return 0
}
