package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Checkpoint modes, in both of Parsl's spellings, and --fresh: what a run
// leaves in the store for the next, after a normal exit and after SIGKILL.

// modesScript runs six cached tasks, three and then three, with the
// configuration CONFIG; with argv[1] == "nap" it then sleeps in a bash app
// until killed. work(0) is called twice: the second call is a hit
// whatever the mode, as long as caching is on.
const modesScript = `
parsl.load(CONFIG)

@bash_app(cache = True)
def work(i):
    return "echo %d >> runs.log" % i

@bash_app
def nap():
    return "echo $$ > napping.tmp && mv napping.tmp napping && exec sleep 60"

first = [work(i) for i in range(3)]
[f.result() for f in first]
work(0).result()
if MANUAL:
    print("checkpointed", parsl.dfk().checkpoint())
second = [work(i) for i in range(3, 6)]
[f.result() for f in second]
if len(argv) > 1 and argv[1] == "nap":
    nap().result()
print("finished")
`

var checkpointed = regexp.MustCompile(`checkpoint: results=(\d+)`)

// TestMemoCheckpointModes runs the script, normally or killed while it
// naps with all six results computed, then runs it again and counts what
// the second run executes: what the first made durable it does not.
func TestMemoCheckpointModes(t *testing.T) {
	t.Parallel()
	const period = `checkpoint_period = "00:00:01"`
	for _, tc := range []struct {
		name      string
		old, new  string // the configuration, in Parsl's two spellings
		manual    bool   // the script calls parsl.dfk().checkpoint()
		firstRuns int    // tasks the first run executes
		rerun     int    // tasks the second run executes after a normal exit
		killed    int    // ... and after the first run was killed
	}{
		{name: "none", old: `Config(checkpoint_mode = None)`, new: `Config(memoizer = BasicMemoizer(checkpoint_mode = None))`,
			firstRuns: 6, rerun: 6, killed: 6},
		{name: "default", old: `Config()`, new: `Config(memoizer = BasicMemoizer())`,
			firstRuns: 6, rerun: 0, killed: 0},
		{name: "task_exit", old: `Config(checkpoint_mode = "task_exit")`, new: `Config(memoizer = BasicMemoizer(checkpoint_mode = "task_exit"))`,
			firstRuns: 6, rerun: 0, killed: 0},
		{name: "dfk_exit", old: `Config(checkpoint_mode = "dfk_exit")`, new: `Config(memoizer = BasicMemoizer(checkpoint_mode = "dfk_exit"))`,
			firstRuns: 6, rerun: 0, killed: 6},
		{name: "manual", old: `Config(checkpoint_mode = "manual")`, new: `Config(memoizer = BasicMemoizer(checkpoint_mode = "manual"))`,
			manual: true, firstRuns: 6, rerun: 3, killed: 3},
		{name: "periodic", old: `Config(checkpoint_mode = "periodic", ` + period + `)`, new: `Config(memoizer = BasicMemoizer(checkpoint_mode = "periodic", ` + period + `))`,
			firstRuns: 6, rerun: 0, killed: 0},
		{name: "app_cache off", old: `Config(app_cache = False)`, new: `Config(memoizer = BasicMemoizer(memoize = False))`,
			firstRuns: 7, rerun: 7, killed: 7},
	} {
		for _, spelling := range []struct{ name, config string }{{"Config", tc.old}, {"BasicMemoizer", tc.new}} {
			manual := "False"
			if tc.manual {
				manual = "True"
			}
			script := strings.NewReplacer("CONFIG", spelling.config, "MANUAL", manual).Replace(modesScript)
			t.Run(tc.name+"/"+spelling.name+"/exit", func(t *testing.T) {
				t.Parallel()
				p := newMemoProject(t)
				p.write("modes.star", script)
				p.run("modes.star").ok(t)
				if got := len(p.take("runs.log")); got != tc.firstRuns {
					t.Errorf("first run executed %d tasks, want %d", got, tc.firstRuns)
				}
				p.run("modes.star").ok(t)
				if got := len(p.take("runs.log")); got != tc.rerun {
					t.Errorf("after a normal exit, the second run executed %d tasks, want %d", got, tc.rerun)
				}
			})
			t.Run(tc.name+"/"+spelling.name+"/kill", func(t *testing.T) {
				t.Parallel()
				p := newMemoProject(t)
				p.write("modes.star", script)
				c := p.start("modes.star", "nap")
				c.waitFor("the nap", func() bool { return p.read("napping") != "" })
				if tc.name == "periodic" {
					c.waitFor("a checkpoint of all six results", func() bool {
						n := 0
						for _, m := range checkpointed.FindAllStringSubmatch(p.read("runinfo/000/starflow.log"), -1) {
							k, _ := strconv.Atoi(m[1])
							n += k
						}
						return n >= 6
					})
				}
				c.kill()
				if got := len(p.take("runs.log")); got != tc.firstRuns {
					t.Errorf("first run executed %d tasks, want %d", got, tc.firstRuns)
				}
				p.run("modes.star").ok(t)
				if got := len(p.take("runs.log")); got != tc.killed {
					t.Errorf("after SIGKILL, the second run executed %d tasks, want %d", got, tc.killed)
				}
			})
		}
	}
}

// TestMemoFresh: --fresh runs every task again and stores what it
// computes, for the runs after it.
func TestMemoFresh(t *testing.T) {
	t.Parallel()
	p := newMemoProject(t)
	p.write("fresh.star", strings.NewReplacer("CONFIG", "Config()", "MANUAL", "False").Replace(modesScript))
	for _, step := range []struct {
		args []string
		want int
	}{
		{[]string{"fresh.star"}, 6},
		{[]string{"--fresh", "fresh.star"}, 6},
		{[]string{"fresh.star"}, 0},
	} {
		p.run(step.args...).ok(t)
		if got := len(p.take("runs.log")); got != step.want {
			t.Errorf("starflow run %v executed %d tasks, want %d", step.args, got, step.want)
		}
	}
}
