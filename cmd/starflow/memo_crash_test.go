package main

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The crash tests: a run of many cached tasks killed with SIGKILL half-way
// and run again. The helpers they share with the other memo tests are in
// memo_run_test.go.

// crashScript runs N cached bash apps on four threads. Each appends
// "start ID" and "end ID" to side.log; those from GATE on wait, before
// they end, for a file named "go" (or for starflow to die). A second pool
// runs mark(ID) once ID's result is durable: checkpoint_mode "task_exit"
// completes a task, and so starts its dependents, only then.
const crashScript = `
parsl.load(Config(executors = [
    ThreadPoolExecutor(label = "work", max_threads = 4),
    ThreadPoolExecutor(label = "marks", max_threads = 2),
]))

N = int(argv[1])
GATE = int(argv[2])
MARK = argv[3] == "mark"

@bash_app(cache = True, executors = ["work"])
def work(i):
    wait = ""
    if i >= GATE:
        wait = "while [ ! -e go ]; do kill -0 $PPID 2>/dev/null || exit 3; sleep 0.01; done; "
    return "echo start %d >> side.log; %secho end %d >> side.log" % (i, wait, i)

@bash_app(executors = ["marks"])
def mark(i, result):
    return "echo %d >> durable.log" % i

futures = [work(i) for i in range(N)]
if MARK:
    marks = [mark(i, f) for i, f in enumerate(futures)]
failed = [i for i, f in enumerate(futures) if f.result() != 0]
print(len(futures), "tasks,", len(failed), "failed")
`

const (
	crashTasks = 2000
	crashSlots = 4 // the "work" pool's threads
)

// sideLog is what side.log says about one run.
type sideLog struct {
	starts map[int]bool // ids whose command started
	ends   map[int]bool // ids whose command finished
	dups   []int        // ids started more than once
}

func parseSide(t *testing.T, content string) sideLog {
	t.Helper()
	s := sideLog{starts: map[int]bool{}, ends: map[int]bool{}}
	sc := bufio.NewScanner(strings.NewReader(completeLines(content)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			t.Fatalf("side.log: bad line %q", sc.Text())
		}
		id, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("side.log: bad line %q", sc.Text())
		}
		switch {
		case f[0] == "start":
			if s.starts[id] {
				s.dups = append(s.dups, id)
			}
			s.starts[id] = true
		case f[0] == "end":
			s.ends[id] = true
		}
	}
	return s
}

// running lists the ids started and not ended.
func (s sideLog) running() []int {
	var ids []int
	for id := range s.starts {
		if !s.ends[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// completeLines drops a last line that has no newline yet: a line being
// appended as the file was read, which a later read will see whole.
func completeLines(s string) string { return s[:strings.LastIndexByte(s, '\n')+1] }

// idSet reads a file of task ids, one a line.
func idSet(t *testing.T, content string) map[int]bool {
	t.Helper()
	set := map[int]bool{}
	for _, l := range strings.Fields(completeLines(content)) {
		id, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("bad task id %q", l)
		}
		set[id] = true
	}
	return set
}

// TestMemoCrashQuiescent kills a run at a moment when everything that
// finished is durable and the four threads each run a task: exactly those
// four run again, and nothing else does.
func TestMemoCrashQuiescent(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("crash.star", crashScript)
	gate := strconv.Itoa(crashTasks / 2)

	c := p.start("crash.star", strconv.Itoa(crashTasks), gate, "mark")
	var side sideLog
	var marked map[int]bool
	c.waitFor("a stalled run with every finished task durable", func() bool {
		side = parseSide(t, p.read("side.log"))
		marked = idSet(t, p.read("durable.log"))
		if len(side.running()) != crashSlots || len(marked) != len(side.ends) {
			return false
		}
		for id := range side.ends {
			if !marked[id] {
				return false
			}
		}
		return true
	})
	c.kill()
	running := side.running()
	t.Logf("killed with %d tasks done and durable, %d running: %v", len(side.ends), len(running), running)
	p.take("side.log")
	p.take("durable.log")

	p.write("go", "")
	o := p.run("crash.star", strconv.Itoa(crashTasks), gate, "no-mark").ok(t)
	if want := fmt.Sprintf("%d tasks, 0 failed\n", crashTasks); o.stdout != want {
		t.Errorf("rerun printed %q, want %q", o.stdout, want)
	}
	rerun := parseSide(t, p.read("side.log"))
	if len(rerun.dups) > 0 {
		t.Errorf("rerun started tasks %v twice", rerun.dups)
	}
	// Exactly the tasks without a durable result run: the ones never
	// started and the ones running at the kill.
	var wrong []string
	for id := range crashTasks {
		ran := rerun.starts[id]
		if ran == marked[id] {
			wrong = append(wrong, fmt.Sprintf("%d (durable %v, ran again %v)", id, marked[id], ran))
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d tasks ran when they should not, or did not when they should: %v", len(wrong), wrong[:min(len(wrong), 10)])
	}
	var twice []int
	for id := range side.starts {
		if rerun.starts[id] {
			twice = append(twice, id)
		}
	}
	slices.Sort(twice)
	if !slices.Equal(twice, running) {
		t.Errorf("tasks executed in both runs: %v, want exactly those running at the kill: %v", twice, running)
	}
	if got := o.states(); got["work memo_done"] != len(marked) || got["work exec_done"] != crashTasks-len(marked) {
		t.Errorf("rerun log: %v, want %d memo_done and %d exec_done", got, len(marked), crashTasks-len(marked))
	}
}

// TestMemoCrashAnywhere kills a run half-way through at whatever moment it
// happens to be: results reported durable are never computed again, every
// task runs at least once over the two runs, and the rerun completes.
func TestMemoCrashAnywhere(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("crash.star", crashScript)
	n, noGate := strconv.Itoa(crashTasks), strconv.Itoa(crashTasks)

	c := p.start("crash.star", n, noGate, "mark")
	c.waitFor("half the tasks done", func() bool {
		return strings.Count(p.read("side.log"), "end") >= crashTasks/2
	})
	c.kill()
	first := parseSide(t, p.read("side.log"))
	p.take("side.log")
	marked := idSet(t, p.read("durable.log"))
	p.take("durable.log")

	o := p.run("crash.star", n, noGate, "no-mark").ok(t)
	if want := fmt.Sprintf("%d tasks, 0 failed\n", crashTasks); o.stdout != want {
		t.Errorf("rerun printed %q, want %q", o.stdout, want)
	}
	rerun := parseSide(t, p.read("side.log"))
	if len(first.dups)+len(rerun.dups) > 0 {
		t.Errorf("tasks started twice within one run: %v, %v", first.dups, rerun.dups)
	}
	var again, durableAgain, missing []int
	for id := range crashTasks {
		ran1 := first.starts[id]
		ran2 := rerun.starts[id]
		switch {
		case !ran1 && !ran2:
			missing = append(missing, id)
		case marked[id] && ran2:
			durableAgain = append(durableAgain, id)
		case ran1 && ran2:
			again = append(again, id)
		}
	}
	if len(missing) > 0 {
		t.Errorf("tasks never executed: %v", missing)
	}
	if len(durableAgain) > 0 {
		t.Errorf("tasks whose result was durable before the kill ran again: %v", durableAgain)
	}
	// What runs twice is what was running, or finished but not yet
	// durable, at the kill: with four threads and syncs grouped, a few.
	t.Logf("killed after %d tasks started, %d durable; %d ran again: %v", len(first.starts), len(marked), len(again), again)
}
