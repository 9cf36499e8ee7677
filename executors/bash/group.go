package bash

import (
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// group kills a command's process group without ever signalling a group id
// that may have been recycled: the id stays the leader's only until the
// leader is reaped, and pid_max can be as small as 32768.
type group struct {
	mu     sync.Mutex
	reaped bool // the leader may be reaped from now on; its id is no longer ours
}

// kill sends SIGKILL to the whole group, so that backgrounded children die
// with the shell instead of outliving the app. It returns os.ErrProcessDone
// once the leader may have been reaped, which exec.Cmd takes to mean that a
// late cancellation changed nothing.
func (g *group) kill(pgid int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.reaped {
		return os.ErrProcessDone
	}
	return syscall.Kill(-pgid, syscall.SIGKILL)
}

// finish blocks until the leader has exited but leaves it unreaped, so its
// zombie still pins the group id while whatever the command left behind is
// killed. Only then may cmd.Wait reap it.
func (g *group) finish(pgid int) {
	exited := waitExited(pgid) == nil
	g.mu.Lock()
	defer g.mu.Unlock()
	if exited {
		// ESRCH is fine: nothing was left behind.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	g.reaped = true
}

// waitExited waits for pid to exit without reaping it (WNOWAIT).
func waitExited(pid int) error {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		// The Go runtime's preemption signals interrupt the wait.
		if err != unix.EINTR {
			return err
		}
	}
}

// Tracker knows the process groups of the commands running now, so that a
// host which must exit at once (a second Ctrl-C) can kill them first
// instead of leaving them orphaned, and tells its watchers about them.
type Tracker struct {
	mu       sync.Mutex
	groups   map[*group]int // group -> leader pid (= pgid)
	watchers []*watching
}

// Watcher learns when the process group of a task's command starts and
// ends, so it can sample the group's resources meanwhile. Both are called
// on the goroutine running the command and must not block.
type Watcher interface {
	ProcessStarted(task, try, pgid int)
	// ProcessEnded comes once the leader was reaped; state has its exit
	// status and rusage (which covers the children it waited for).
	ProcessEnded(task, try, pgid int, state *os.ProcessState)
}

type watching struct{ w Watcher }

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{groups: make(map[*group]int)} }

// Watch tells w about every command with a TryID that starts from now on,
// until the returned function is called.
func (t *Tracker) Watch(w Watcher) (stop func()) {
	entry := &watching{w}
	t.mu.Lock()
	t.watchers = append(t.watchers, entry)
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		for i, e := range t.watchers {
			if e == entry {
				t.watchers = append(t.watchers[:i:i], t.watchers[i+1:]...)
				return
			}
		}
	}
}

func (t *Tracker) add(g *group, pgid int, id *TryID) {
	t.mu.Lock()
	t.groups[g] = pgid
	watchers := t.watchers
	t.mu.Unlock()
	if id != nil {
		for _, e := range watchers {
			e.w.ProcessStarted(id.Task, id.Try, pgid)
		}
	}
}

func (t *Tracker) remove(g *group, id *TryID, state *os.ProcessState) {
	t.mu.Lock()
	pgid := t.groups[g]
	delete(t.groups, g)
	watchers := t.watchers
	t.mu.Unlock()
	if id != nil && state != nil {
		for _, e := range watchers {
			e.w.ProcessEnded(id.Task, id.Try, pgid, state)
		}
	}
}

// KillAll sends SIGKILL to every tracked group and returns how many it
// signalled. It does not wait for them to exit.
func (t *Tracker) KillAll() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for g, pgid := range t.groups {
		if g.kill(pgid) == nil {
			n++
		}
	}
	return n
}
