package local

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// group signals a block's process group, never one whose id may have been
// recycled: the id stays ours only while the leader is unreaped, so after
// reaping every signal is refused.
type group struct {
	mu     sync.Mutex
	reaped bool
}

// signal sends sig to the whole group. It returns os.ErrProcessDone once
// the leader may have been reaped, which exec.Cmd takes to mean that a late
// cancellation changed nothing.
func (g *group) signal(pgid int, sig syscall.Signal) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reaped {
		return os.ErrProcessDone
	}
	if pgid <= 0 { // -0 would be our own group
		return syscall.ESRCH
	}
	return syscall.Kill(-pgid, sig)
}

// release kills whatever is left in the group and forbids further
// signals. The caller reaps the leader right after.
func (g *group) release(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH: nothing was left
	}
	g.reaped = true
}

// waitExited blocks until the leader has exited but leaves it unreaped,
// so its zombie pins the group id while the rest of the group is dealt
// with.
func waitExited(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR { // the runtime's preemption signals interrupt it
			return err
		}
	}
}

// awaitEmpty waits until no live process but the zombie leader is left in
// the group, or until grace has passed: the workers got SIGTERM with the
// leader and may need a moment to say goodbye. The group is polled
// through /proc because the zombie leader still counts as a member for
// kill(-pgid, 0).
func awaitEmpty(pgid int, grace time.Duration) {
	deadline := time.Now().Add(grace)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// groupAlive reports whether a process other than a zombie is in group
// pgid.
func groupAlive(pgid int) bool {
	return len(groupMembers(pgid)) > 0
}

// groupMembers lists the live (non-zombie) processes of group pgid.
func groupMembers(pgid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(-1)
	var pids []int
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		state, pg, ok := procStat(pid)
		if ok && pg == pgid && state != 'Z' && state != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads a process's state letter and process group from
// /proc/<pid>/stat. The command name may hold spaces and parentheses, so
// fields are counted from its last ')'.
func procStat(pid int) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	// after ")": " state ppid pgrp ..."
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pg, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pg, true
}
