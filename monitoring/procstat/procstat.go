// Package procstat reads what resource monitoring samples of a process
// or a process group from Linux's /proc: CPU times, memory, storage I/O
// and state. Both the run's recorder (monitoring) and the HTEX worker
// (executors/htex), which samples the tries it runs on another node, read
// processes through it, so it imports nothing of starflow: it sits below
// every package that uses it.
package procstat

import (
	"bytes"
	"os"
	"strconv"
)

// ClockTicks is USER_HZ, the unit of CPU times in /proc/<pid>/stat: 100
// on every Linux architecture Go supports (sysconf needs cgo).
const ClockTicks = 100

// Stat is what resource monitoring reads of /proc/<pid>/stat.
type Stat struct {
	State byte
	PPID  int
	PGRP  int
	// CPU times in clock ticks; the c- ones are the children the process
	// waited for.
	Utime, Stime, Cutime, Cstime int64
	VSize                        int64 // bytes
	RSSPages                     int64
}

// Status is psutil's name for the process state.
func (st Stat) Status() string {
	switch st.State {
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
	return string(st.State)
}

// Read parses /proc/<pid>/stat; false when the process is gone or the
// file cannot be read.
func Read(pid int) (Stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, false
	}
	return Parse(b)
}

// Parse reads a /proc/<pid>/stat line. The command name (field 2) may
// hold spaces and parentheses, so fields are counted from its last ')'.
func Parse(b []byte) (Stat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return Stat{}, false
	}
	f := bytes.Fields(b[i+2:])
	// f[0] is field 3 (state); field n is f[n-3].
	if len(f) < 22 {
		return Stat{}, false
	}
	n := func(field int) int64 {
		v, _ := strconv.ParseInt(string(f[field-3]), 10, 64)
		return v
	}
	return Stat{
		State: f[0][0], PPID: int(n(4)), PGRP: int(n(5)),
		Utime: n(14), Stime: n(15), Cutime: n(16), Cstime: n(17),
		VSize: n(23), RSSPages: n(24),
	}, true
}

// Proc is one process as /proc showed it.
type Proc struct {
	PID int
	Stat
}

// All lists every process whose stat it can read.
func All() []Proc {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	out := make([]Proc, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if st, ok := Read(pid); ok {
			out = append(out, Proc{pid, st})
		}
	}
	return out
}

// ReadIO returns read_bytes and write_bytes of /proc/<pid>/io: what the
// process made the storage layer read and write. It is 0, 0 when the
// file is not readable (another user's process).
func ReadIO(pid int) (read, write float64) {
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

// Getenv returns the variable key of the environment process pid started
// with (/proc/<pid>/environ), which only its owner may read.
func Getenv(pid int, key string) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return "", false
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte(key+"=")); ok {
			return string(v), true
		}
	}
	return "", false
}

// MemTotal is the machine's memory in bytes, 0 if unknown.
func MemTotal() float64 {
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

// Usage is the summed numbers of a set of processes (a process group, or
// one process) at one instant.
type Usage struct {
	User, System float64 // CPU seconds, including children already reaped
	RSS, VSize   float64 // bytes
	Read, Write  float64 // bytes read from and written to storage
	Procs        int     // processes summed
	Status       string  // the leader's state, psutil's name
	OK           bool    // at least one process was read
}

// Add adds process pid, whose stat is st, to u; leader says it is the
// one whose state u reports.
func (u *Usage) Add(pid int, st Stat, leader bool) {
	u.OK = true
	u.Procs++
	// cutime/cstime hold the children a process reaped: a finished
	// command of a script still counts, and is not counted twice since it
	// is no longer in /proc.
	u.User += float64(st.Utime+st.Cutime) / ClockTicks
	u.System += float64(st.Stime+st.Cstime) / ClockTicks
	u.RSS += float64(st.RSSPages) * float64(os.Getpagesize())
	u.VSize += float64(st.VSize)
	r, w := ReadIO(pid)
	u.Read += r
	u.Write += w
	if leader {
		u.Status = st.Status()
	}
}

// Process is the usage of process pid alone; OK is false when it cannot
// be read.
func Process(pid int) Usage {
	var u Usage
	if st, ok := Read(pid); ok {
		u.Add(pid, st, true)
	}
	return u
}

// Groups sums the processes of each process group in pgids, in one pass
// over /proc; a group with no process left is missing from the result.
func Groups(pgids map[int]bool) map[int]Usage { return GroupsIn(All(), pgids) }

// GroupsIn is Groups over procs, a list All returned.
func GroupsIn(procs []Proc, pgids map[int]bool) map[int]Usage {
	out := make(map[int]Usage, len(pgids))
	for _, p := range procs {
		if !pgids[p.PGRP] {
			continue
		}
		u := out[p.PGRP]
		u.Add(p.PID, p.Stat, p.PID == p.PGRP)
		out[p.PGRP] = u
	}
	return out
}
