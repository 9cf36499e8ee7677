package scaling_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/providers"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func at(secs float64) time.Time { return t0.Add(time.Duration(secs * float64(time.Second))) }

// Blocks in a few shapes.
func running(id, tasks int, idleSince time.Time) scaling.Block {
	return scaling.Block{ID: id, State: providers.Running, Workers: 1, Joined: true, Tasks: tasks, IdleSince: idleSince}
}
func busy(id, tasks int) scaling.Block { return running(id, tasks, time.Time{}) }
func pending(id int, since time.Time) scaling.Block {
	return scaling.Block{ID: id, State: providers.Pending, IdleSince: since}
}
func ended(id int, s providers.JobState, joined bool, msg string) scaling.Block {
	return scaling.Block{ID: id, State: s, Joined: joined, Message: msg}
}

// step is one tick: the state the executor reports at a time, the
// expected decision, then what applying it did.
type step struct {
	at     float64 // seconds after t0
	out    int     // outstanding tasks
	blocks []scaling.Block

	start      int
	cancel     []int
	paused     bool
	fail       string // substring of Decision.Fail; "" means none
	launchErr  error  // Launched's error after this tick
	cancelFail bool   // ScaleIn failed after this tick
}

type scenario struct {
	name  string
	kind  scaling.Kind
	init  int
	min   int
	max   int
	par   float64
	slots int
	steps []step
}

func TestStrategy(t *testing.T) {
	t.Parallel()
	idle := func(secs float64) time.Time { return at(secs) }
	for _, sc := range []scenario{
		{name: "init_blocks at start", kind: scaling.HtexAutoScale, init: 2, max: 4, par: 1, slots: 4, steps: []step{
			{at: 0, start: 2},
			{at: 5, blocks: []scaling.Block{pending(0, at(0)), pending(1, at(0))}},
		}},
		{name: "init_blocks capped at max_blocks", kind: scaling.Simple, init: 5, max: 3, par: 1, slots: 1, steps: []step{
			{at: 0, start: 3},
		}},
		{name: "init_blocks 0 and no work", kind: scaling.Simple, init: 0, max: 3, par: 1, slots: 1, steps: []step{
			{at: 0},
			{at: 5},
		}},
		{name: "none starts init_blocks only", kind: scaling.None, init: 1, max: 3, par: 1, slots: 1, steps: []step{
			{at: 0, out: 10, start: 1},
			{at: 5, out: 10, blocks: []scaling.Block{busy(0, 1)}},
			{at: 10, out: 10, blocks: []scaling.Block{ended(0, providers.NodeFail, true, "")}},
		}},
		{name: "scale out to 3 then back to min after idle", kind: scaling.HtexAutoScale, init: 1, min: 1, max: 3, par: 1, slots: 2, steps: []step{
			{at: 0, start: 1},
			{at: 5, out: 10, blocks: []scaling.Block{busy(0, 2)}, start: 2},
			{at: 10, out: 10, blocks: []scaling.Block{busy(0, 2), pending(1, at(5)), pending(2, at(5))}},
			{at: 15, out: 10, blocks: []scaling.Block{busy(0, 2), busy(1, 2), busy(2, 2)}},
			// the work is done: the idle timer starts
			{at: 20, out: 0, blocks: []scaling.Block{running(0, 0, idle(20)), running(1, 0, idle(19)), running(2, 0, idle(18))}},
			{at: 140, out: 0, blocks: []scaling.Block{running(0, 0, idle(20)), running(1, 0, idle(19)), running(2, 0, idle(18))}},
			// idle for more than max_idletime (120 s): the two longest idle go
			{at: 140.5, out: 0, blocks: []scaling.Block{running(0, 0, idle(20)), running(1, 0, idle(19)), running(2, 0, idle(18))},
				cancel: []int{2, 1}},
			// still reported running until cancelled: not cancelled twice, not counted
			{at: 145, out: 0, blocks: []scaling.Block{running(0, 0, idle(20)), running(1, 0, idle(19)), running(2, 0, idle(18))}},
			{at: 150, out: 0, blocks: []scaling.Block{running(0, 0, idle(20)), ended(1, providers.Cancelled, true, ""), ended(2, providers.Cancelled, true, "")}},
			{at: 155, out: 0, blocks: []scaling.Block{running(0, 0, idle(20))}},
		}},
		{name: "tasks reset the idle timer", kind: scaling.Simple, min: 0, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, out: 0, blocks: []scaling.Block{running(0, 0, at(0))}},
			{at: 100, out: 1, blocks: []scaling.Block{busy(0, 1)}},
			{at: 110, out: 0, blocks: []scaling.Block{running(0, 0, at(110))}},
			{at: 200, out: 0, blocks: []scaling.Block{running(0, 0, at(110))}},
			{at: 231, out: 0, blocks: []scaling.Block{running(0, 0, at(110))}, cancel: []int{0}},
		}},
		{name: "queued blocks go first", kind: scaling.Simple, min: 0, max: 3, par: 1, slots: 1, steps: []step{
			{at: 0, out: 0, blocks: []scaling.Block{running(0, 0, at(0)), pending(1, at(0)), running(2, 0, at(0))}},
			{at: 121, out: 0, blocks: []scaling.Block{running(0, 0, at(0)), pending(1, at(0)), running(2, 0, at(0))},
				cancel: []int{1, 0, 2}},
		}},
		{name: "parallelism 0.5", kind: scaling.Simple, max: 10, par: 0.5, slots: 2, steps: []step{
			{at: 0, out: 8, start: 2},
		}},
		{name: "parallelism 0.1 of 30 tasks is 3 slots, not 4", kind: scaling.Simple, max: 10, par: 0.1, slots: 1, steps: []step{
			{at: 0, out: 30, start: 3},
		}},
		{name: "parallelism 0: one block for any load", kind: scaling.Simple, max: 10, par: 0, slots: 4, steps: []step{
			{at: 0, out: 1000, start: 1},
			{at: 5, out: 1000, blocks: []scaling.Block{busy(0, 4)}},
		}},
		{name: "min_blocks kept", kind: scaling.Simple, min: 2, max: 4, par: 1, slots: 1, steps: []step{
			{at: 0, start: 2},
			{at: 5, blocks: []scaling.Block{running(0, 0, at(1)), running(1, 0, at(1))}},
			{at: 500, blocks: []scaling.Block{running(0, 0, at(1)), running(1, 0, at(1))}},
		}},
		{name: "lost block replaced while work waits", kind: scaling.HtexAutoScale, init: 2, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, out: 5, start: 2},
			{at: 5, out: 5, blocks: []scaling.Block{busy(0, 1), busy(1, 1)}},
			{at: 10, out: 5, blocks: []scaling.Block{busy(0, 1), ended(1, providers.Timeout, true, "walltime")}, start: 1},
			{at: 15, out: 5, blocks: []scaling.Block{busy(0, 1), pending(2, at(10))}},
		}},
		{name: "lost block below min_blocks replaced without work", kind: scaling.Simple, min: 1, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, start: 1},
			{at: 5, blocks: []scaling.Block{ended(0, providers.NodeFail, true, "")}, start: 1},
		}},
		{name: "lost block not replaced when nothing waits", kind: scaling.Simple, min: 0, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, blocks: []scaling.Block{running(0, 0, at(0))}},
			{at: 5, blocks: []scaling.Block{ended(0, providers.Cancelled, true, "")}},
		}},
		{name: "unknown blocks count against max_blocks", kind: scaling.Simple, max: 1, par: 1, slots: 1, steps: []step{
			{at: 0, out: 5, blocks: []scaling.Block{{ID: 0, State: providers.Unknown, Message: "squeue timed out"}}},
		}},
		{name: "completing blocks do not", kind: scaling.Simple, max: 1, par: 1, slots: 1, steps: []step{
			{at: 0, out: 5, blocks: []scaling.Block{{ID: 0, State: providers.Completing, Joined: true}}, start: 1},
		}},
		{name: "htex_auto_scale cancels idle blocks the load does not need", kind: scaling.HtexAutoScale, max: 4, par: 1, slots: 4, steps: []step{
			// 12 slots for 2 tasks: 2 blocks are excess, but only block 1
			// has been idle for more than 120 s
			{at: 200, out: 2, blocks: []scaling.Block{busy(0, 2), running(1, 0, at(0)), running(2, 0, at(190))},
				cancel: []int{1}},
		}},
		{name: "htex_auto_scale keeps what the load needs", kind: scaling.HtexAutoScale, max: 4, par: 1, slots: 4, steps: []step{
			// 8 slots for 5 tasks: removing a block would leave 4 (Parsl
			// would, then start it again)
			{at: 200, out: 5, blocks: []scaling.Block{busy(0, 4), running(1, 0, at(0))}},
		}},
		{name: "simple never scales in while work remains", kind: scaling.Simple, max: 4, par: 1, slots: 4, steps: []step{
			{at: 200, out: 2, blocks: []scaling.Block{busy(0, 2), running(1, 0, at(0)), running(2, 0, at(0))}},
		}},
		{name: "failed cancel makes the block a candidate again", kind: scaling.Simple, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, blocks: []scaling.Block{running(0, 0, at(0))}},
			{at: 121, blocks: []scaling.Block{running(0, 0, at(0))}, cancel: []int{0}, cancelFail: true},
			{at: 126, blocks: []scaling.Block{running(0, 0, at(0))}, cancel: []int{0}},
		}},
		{name: "submit failures back off", kind: scaling.Simple, init: 2, max: 3, par: 1, slots: 1, steps: []step{
			{at: 0, out: 3, start: 3, launchErr: errors.New("sbatch: error: invalid partition specified: gpu")},
			// 1 failure: paused 1 s, nothing alive, 1 < init_blocks: no give-up yet
			{at: 0.5, out: 3, paused: true},
			{at: 1.5, out: 3, start: 3, launchErr: errors.New("sbatch: error: invalid partition specified: gpu")},
			// 2 failures = init_blocks: the waiting tasks get the error
			{at: 2, out: 3, paused: true, fail: "2 block launches failed in a row and no block is running; last: sbatch: error: invalid partition specified: gpu"},
			{at: 3, out: 3, paused: true, fail: "invalid partition"},
			// paused 2 s after the second failure, then 4 s after the third
			{at: 3.5, out: 3, start: 3, fail: "invalid partition", launchErr: errors.New("sbatch: error: invalid partition specified: gpu")},
			{at: 7, out: 3, paused: true, fail: "invalid partition"},
			{at: 7.6, out: 3, start: 3, fail: "invalid partition"},
			// a block that joins clears the failures
			{at: 10, out: 3, blocks: []scaling.Block{busy(0, 1), pending(1, at(7.6)), pending(2, at(7.6))}},
			// a block failing before it joins counts again, but two blocks are alive
			{at: 15, out: 3, blocks: []scaling.Block{busy(0, 1), busy(1, 1), ended(2, providers.Failed, false, "exit code 1")}, paused: true},
			{at: 16.5, out: 3, blocks: []scaling.Block{busy(0, 1), busy(1, 1), ended(2, providers.Failed, false, "exit code 1")}, start: 1},
		}},
		{name: "worker_init failure stops the run with its stderr", kind: scaling.HtexAutoScale, init: 1, max: 1, par: 1, slots: 1, steps: []step{
			{at: 0, out: 1, start: 1},
			{at: 5, out: 1, blocks: []scaling.Block{ended(0, providers.Failed, false,
				"exit code 1; htex.block-0.stderr ends with:\nno module py3\nstarflow: worker_init failed with exit code 1")},
				paused: true, fail: "block 0 FAILED: exit code 1; htex.block-0.stderr ends with:\nno module py3"},
			// the retry is allowed after the pause, and fails the same way
			{at: 10, out: 1, blocks: []scaling.Block{ended(0, providers.Failed, false, "")}, start: 1, fail: "block 0 FAILED"},
			{at: 15, out: 1, blocks: []scaling.Block{ended(1, providers.Failed, false, "exit code 1")}, paused: true, fail: "2 block launches failed in a row"},
		}},
		{name: "a failure with a live block does not give up", kind: scaling.Simple, init: 1, max: 2, par: 1, slots: 1, steps: []step{
			{at: 0, out: 2, blocks: []scaling.Block{busy(0, 1), ended(1, providers.Failed, false, "exit code 1")}, paused: true},
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			s := scaling.New(scaling.Config{
				Kind:        sc.kind,
				Blocks:      providers.Settings{InitBlocks: sc.init, MinBlocks: sc.min, MaxBlocks: sc.max, Parallelism: sc.par},
				MaxIdletime: 120 * time.Second,
			})
			for i, st := range sc.steps {
				now := at(st.at)
				d := s.Tick(now, scaling.State{Outstanding: st.out, SlotsPerBlock: sc.slots, Blocks: st.blocks})
				if d.Start != st.start || !slices.Equal(d.Cancel, st.cancel) || (d.Paused != "") != st.paused {
					t.Errorf("step %d (t=%vs): start %d, cancel %v, paused %q; want start %d, cancel %v, paused %v",
						i, st.at, d.Start, d.Cancel, d.Paused, st.start, st.cancel, st.paused)
				}
				switch {
				case st.fail == "" && d.Fail != nil:
					t.Errorf("step %d (t=%vs): Fail = %v, want none", i, st.at, d.Fail)
				case st.fail != "" && (d.Fail == nil || !strings.Contains(d.Fail.Error(), st.fail)):
					t.Errorf("step %d (t=%vs): Fail = %v, want it to contain %q", i, st.at, d.Fail, st.fail)
				}
				if (d.Start > 0 || len(d.Cancel) > 0) && d.Reason == "" {
					t.Errorf("step %d: a decision without a reason", i)
				}
				if st.launchErr != nil {
					s.LaunchFailed(now, st.launchErr)
				}
				if st.cancelFail {
					s.CancelFailed(d.Cancel)
				}
			}
		})
	}
}

func TestBackoffCap(t *testing.T) {
	t.Parallel()
	s := scaling.New(scaling.Config{Kind: scaling.Simple, Blocks: providers.Settings{MaxBlocks: 1, Parallelism: 1},
		Backoff: time.Second, MaxBackoff: 10 * time.Second})
	now := t0
	for range 20 {
		s.LaunchFailed(now, errors.New("sbatch: error: Batch job submission failed"))
	}
	if d := s.Tick(now.Add(9*time.Second), scaling.State{Outstanding: 1}); d.Paused == "" {
		t.Errorf("9 s after 20 failures: not paused, want paused (MaxBackoff 10 s)")
	}
	if d := s.Tick(now.Add(11*time.Second), scaling.State{Outstanding: 1}); d.Start != 1 {
		t.Errorf("11 s after 20 failures: start %d (paused %q), want a retry", d.Start, d.Paused)
	}
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want scaling.Kind
		err  bool
	}{
		{"simple", scaling.Simple, false},
		{"htex_auto_scale", scaling.HtexAutoScale, false},
		{"none", scaling.None, false},
		{"auto", 0, true},
	} {
		got, err := scaling.ParseKind(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseKind(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	if _, err := scaling.ParseKind("auto"); err == nil || !strings.Contains(err.Error(), `strategy: got "auto", want one of "simple", "htex_auto_scale", "none"`) {
		t.Errorf("ParseKind error = %v", err)
	}
}

// TestTransientLaunchFailures: a scheduler that did not answer once must
// not fail every waiting task (init_blocks=1); a refusal still does, as
// Parsl's simple_error_handler would, and so do transient failures that
// keep coming.
func TestTransientLaunchFailures(t *testing.T) {
	t.Parallel()
	newS := func() *scaling.Strategy {
		return scaling.New(scaling.Config{Kind: scaling.Simple,
			Blocks:  providers.Settings{InitBlocks: 1, MaxBlocks: 1, Parallelism: 1},
			Backoff: time.Second, MaxBackoff: 10 * time.Second})
	}
	timedOut := &providers.TransientError{Err: errors.New("sbatch: error: Socket timed out on send/recv operation")}
	refused := errors.New("sbatch: error: Batch job submission failed: Invalid partition name specified")
	waiting := scaling.State{Outstanding: 1}

	s := newS()
	s.Tick(t0, waiting)
	s.LaunchFailed(t0, timedOut)
	if d := s.Tick(t0, waiting); d.Fail != nil {
		t.Fatalf("one transient failure failed the tasks: %v", d.Fail)
	}
	s.LaunchFailed(t0, timedOut)
	s.LaunchFailed(t0, timedOut)
	if d := s.Tick(t0, waiting); d.Fail == nil || !strings.Contains(d.Fail.Error(), "Socket timed out") {
		t.Errorf("three transient failures in a row: Fail = %v, want the last one quoted", d.Fail)
	}

	s = newS()
	s.Tick(t0, waiting)
	s.LaunchFailed(t0, refused)
	if d := s.Tick(t0, waiting); d.Fail == nil || !strings.Contains(d.Fail.Error(), "Invalid partition") {
		t.Errorf("a refusal with init_blocks=1: Fail = %v, want Slurm's message", d.Fail)
	}
}
