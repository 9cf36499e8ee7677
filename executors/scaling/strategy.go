// Package scaling is Parsl's block scaling strategy ("simple" and
// "htex_auto_scale"), written once for every provider: a Strategy turns a
// snapshot of an executor (outstanding tasks, its blocks) into a Decision
// (blocks to start, blocks to cancel), and a Runner ticks it periodically
// and applies the decisions through a small Target the executor
// implements. The Strategy does no I/O and reads no clock, so its rules
// are tested with tables.
package scaling

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/starflow-hpc/starflow/providers"
)

// Kind is Config(strategy=...).
type Kind uint8

const (
	// None starts init_blocks and nothing else ("none").
	None Kind = iota
	// Simple scales out with the load and scales in only once the executor
	// has been idle for max_idletime ("simple").
	Simple
	// HtexAutoScale is Simple plus scaling in, while work remains, the
	// blocks whose workers have been idle for max_idletime
	// ("htex_auto_scale", Parsl's default).
	HtexAutoScale
)

var kindNames = [...]string{"none", "simple", "htex_auto_scale"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// ParseKind reads Parsl's strategy names.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if s == n {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("strategy: got %q, want one of \"simple\", \"htex_auto_scale\", \"none\"", s)
}

// Config is what a Strategy needs from the run's and the provider's
// configuration.
type Config struct {
	Kind Kind
	// Blocks supplies init_blocks, min_blocks, max_blocks and parallelism.
	Blocks providers.Settings
	// MaxIdletime is Config(max_idletime=...); Parsl's default is 120 s.
	MaxIdletime time.Duration
	// Backoff is the pause after a failed launch; it doubles with each
	// failure in a row, up to MaxBackoff. 0 means 1 s and 5 min.
	Backoff, MaxBackoff time.Duration
}

// State is a snapshot of an executor, taken by its Target.
type State struct {
	// Outstanding counts tasks submitted to the executor and not finished
	// (waiting or running): Parsl's executor.outstanding.
	Outstanding int
	// SlotsPerBlock is workers_per_node × nodes_per_block; 0 counts as 1.
	SlotsPerBlock int
	// Blocks lists the executor's blocks. A block that ended must be
	// listed at least once after it ended (so that a failure is seen); it
	// may be dropped afterwards. A block whose Submit failed is reported
	// through ScaleOut's error only, never listed.
	Blocks []Block
}

// Block is what the strategy knows about one block.
type Block struct {
	ID      int
	State   providers.JobState
	Message string // the provider's message for a block that ended
	Workers int    // workers of this block connected now
	// Joined says a worker of this block has registered at some point:
	// a block that ends without ever joining is a failed launch, one that
	// ends after joining is a lost block.
	Joined bool
	Tasks  int // tasks running on its workers now
	// IdleSince is zero while Tasks > 0; otherwise when the block's last
	// task finished, or when it was submitted if it never had one.
	IdleSince time.Time
}

// Decision is what a tick asks of the executor.
type Decision struct {
	Start  int    // blocks to submit
	Cancel []int  // block ids to cancel
	Reason string // why, for the log; empty when nothing changes
	// Paused says why blocks that are wanted are not being started:
	// launches failed and the strategy is backing off.
	Paused string
	// Fail is set when launches keep failing and no block is alive to run
	// anything: the executor should fail its waiting tasks with it rather
	// than let them hang. The strategy keeps retrying, backing off.
	Fail error
}

// Strategy is the scaling state machine for one executor. It is not safe
// for concurrent use; a Runner owns it.
type Strategy struct {
	cfg Config

	started   bool
	idleSince time.Time // when Outstanding was first seen 0; zero while busy

	memo       map[int]*memo // per block id, for blocks in the last State
	cancelling map[int]bool  // cancels decided and not yet seen to end

	failures    int       // failed launches in a row since a block last joined
	refusals    int       // of those, the ones that were not transient
	lastFailure error     // the latest of them
	pausedUntil time.Time // no launches before this
}

type memo struct {
	joined bool
	ended  bool
}

// New returns a strategy for cfg; cfg.Blocks is assumed validated.
func New(cfg Config) *Strategy {
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	return &Strategy{cfg: cfg, memo: make(map[int]*memo), cancelling: make(map[int]bool)}
}

// Tick decides what to do now. Its rules are Parsl's:
//
//   - init_blocks on the first tick (at most max_blocks);
//   - never fewer than min_blocks;
//   - with tasks outstanding, ceil(outstanding × parallelism / slots per
//     block) blocks, at least one, at most max_blocks; a block that ended
//     is replaced by the same rule;
//   - with no task outstanding for max_idletime, down to min_blocks;
//   - htex_auto_scale only: with tasks outstanding, cancel blocks idle for
//     max_idletime whose slots the load does not need;
//   - after failed launches, no launch before a backoff that doubles with
//     each failure in a row.
func (s *Strategy) Tick(now time.Time, st State) Decision {
	s.observe(now, st)
	var d Decision
	active := s.active(st)
	maxB := s.cfg.Blocks.MaxBlocks
	want, reason := active, ""
	raise := func(n int, why string) {
		if n > want {
			want, reason = n, why
		}
	}
	if !s.started {
		s.started = true
		raise(min(s.cfg.Blocks.InitBlocks, maxB), fmt.Sprintf("init_blocks=%d", s.cfg.Blocks.InitBlocks))
	}
	if s.cfg.Kind != None {
		raise(min(s.cfg.Blocks.MinBlocks, maxB), fmt.Sprintf("%d active blocks, min_blocks=%d", active, s.cfg.Blocks.MinBlocks))
		if st.Outstanding > 0 {
			need := max(s.required(st), 1)
			raise(min(need, maxB), fmt.Sprintf("%d outstanding tasks want %d blocks of %d slots (parallelism %v, max_blocks %d), %d active",
				st.Outstanding, need, slots(st), s.cfg.Blocks.Parallelism, maxB, active))
		}
	}
	if st.Outstanding > 0 {
		s.idleSince = time.Time{}
	} else if s.idleSince.IsZero() {
		s.idleSince = now
	}
	if start := want - active; start > 0 {
		if now.Before(s.pausedUntil) {
			d.Paused = fmt.Sprintf("not starting %d blocks until %s: %d failed launches in a row; last: %v",
				start, s.pausedUntil.Format(time.TimeOnly), s.failures, s.lastFailure)
		} else {
			d.Start, d.Reason = start, reason
		}
	} else if s.cfg.Kind != None {
		d.Cancel, d.Reason = s.scaleIn(now, st, active)
		for _, id := range d.Cancel {
			s.cancelling[id] = true
		}
	}
	if active == 0 && (s.refusals >= max(1, s.cfg.Blocks.InitBlocks) || s.failures >= max(transientTries, s.cfg.Blocks.InitBlocks)) {
		// Parsl's simple_error_handler: as many refusals as init_blocks
		// and nothing alive. A scheduler that merely did not answer gets
		// transientTries launches, spaced by the backoff, first. A retry
		// may still start now, for later tasks.
		launches := "block launches"
		if s.failures == 1 {
			launches = "block launch"
		}
		d.Fail = fmt.Errorf("%d %s failed in a row and no block is running; last: %w", s.failures, launches, s.lastFailure)
	}
	return d
}

// transientTries is how many launches in a row may fail transiently (the
// scheduler did not answer) before the tasks waiting for a block fail.
const transientTries = 3

// LaunchFailed records that submitting a block failed with err: the
// blocks a Decision asked for beyond those submitted are not retried
// before the backoff has passed.
func (s *Strategy) LaunchFailed(now time.Time, err error) { s.fail(now, err) }

// CancelFailed forgets cancels that could not be made, so the blocks
// count again and may be chosen again.
func (s *Strategy) CancelFailed(ids []int) {
	for _, id := range ids {
		delete(s.cancelling, id)
	}
}

// observe updates the per-block memory from a snapshot: which blocks
// joined (a join proves launches work and clears the backoff) and which
// ended without ever joining (a failed launch).
func (s *Strategy) observe(now time.Time, st State) {
	seen := make(map[int]bool, len(st.Blocks))
	for _, b := range st.Blocks {
		seen[b.ID] = true
		m := s.memo[b.ID]
		if m == nil {
			m = &memo{}
			s.memo[b.ID] = m
		}
		if (b.Joined || b.Workers > 0) && !m.joined {
			m.joined = true
			s.failures, s.refusals, s.lastFailure, s.pausedUntil = 0, 0, nil, time.Time{}
		}
		if b.State.Terminal() && !m.ended {
			m.ended = true
			cancelled := s.cancelling[b.ID] || b.State == providers.Cancelled
			delete(s.cancelling, b.ID)
			if !m.joined && !cancelled {
				err := fmt.Errorf("block %d %v", b.ID, b.State)
				if b.Message != "" {
					err = fmt.Errorf("block %d %v: %s", b.ID, b.State, b.Message)
				}
				s.fail(now, err)
			}
		}
	}
	for id := range s.memo {
		if !seen[id] {
			delete(s.memo, id)
			delete(s.cancelling, id)
		}
	}
}

func (s *Strategy) fail(now time.Time, err error) {
	s.failures++
	if !providers.IsTransient(err) {
		s.refusals++
	}
	s.lastFailure = err
	pause := s.cfg.Backoff
	for i := 1; i < s.failures && pause < s.cfg.MaxBackoff; i++ {
		pause *= 2
	}
	s.pausedUntil = now.Add(min(pause, s.cfg.MaxBackoff))
}

// active counts blocks that hold or wait for resources and are not being
// cancelled.
func (s *Strategy) active(st State) int {
	n := 0
	for _, b := range st.Blocks {
		if b.State.Active() && !s.cancelling[b.ID] {
			n++
		}
	}
	return n
}

func slots(st State) int { return max(st.SlotsPerBlock, 1) }

// required is ceil(outstanding × parallelism / slots per block). The
// epsilon keeps 0.1 × 30 from rounding up to 4.
func (s *Strategy) required(st State) int {
	x := float64(st.Outstanding) * s.cfg.Blocks.Parallelism / float64(slots(st))
	return int(math.Ceil(x - 1e-9))
}

// scaleIn picks the blocks to cancel. With no task outstanding for
// max_idletime, every block above min_blocks goes. Under htex_auto_scale
// with tasks outstanding, blocks idle for max_idletime go as long as the
// rest still hold outstanding × parallelism slots; Parsl rounds this
// excess up and so can cancel a block it restarts on the next tick, here
// it is rounded down.
func (s *Strategy) scaleIn(now time.Time, st State, active int) ([]int, string) {
	spare := active - s.cfg.Blocks.MinBlocks
	if spare <= 0 {
		return nil, ""
	}
	idle := func(b Block) bool {
		return b.Tasks == 0 && !b.IdleSince.IsZero() && now.Sub(b.IdleSince) > s.cfg.MaxIdletime
	}
	var excess int
	var reason string
	switch {
	case st.Outstanding == 0:
		if s.idleSince.IsZero() || now.Sub(s.idleSince) <= s.cfg.MaxIdletime {
			return nil, ""
		}
		excess = spare
		idle = func(Block) bool { return true }
		reason = fmt.Sprintf("no task for more than max_idletime=%v, min_blocks=%d", s.cfg.MaxIdletime, s.cfg.Blocks.MinBlocks)
	case s.cfg.Kind == HtexAutoScale:
		free := float64(active*slots(st)) - float64(st.Outstanding)*s.cfg.Blocks.Parallelism
		excess = min(spare, int(math.Floor(free/float64(slots(st))+1e-9)))
		reason = fmt.Sprintf("%d outstanding tasks leave %d blocks idle for more than max_idletime=%v", st.Outstanding, excess, s.cfg.MaxIdletime)
	}
	if excess <= 0 {
		return nil, ""
	}
	var candidates []Block
	for _, b := range st.Blocks {
		if b.State.Active() && !s.cancelling[b.ID] && idle(b) {
			candidates = append(candidates, b)
		}
	}
	// Blocks with no worker (still queued, or lost theirs) first, then the
	// longest idle: what goes costs the least.
	slices.SortFunc(candidates, func(a, b Block) int {
		return cmp.Or(
			cmp.Compare(min(a.Workers, 1), min(b.Workers, 1)),
			cmp.Compare(idleKey(a), idleKey(b)),
			cmp.Compare(a.ID, b.ID))
	})
	var ids []int
	for _, b := range candidates[:min(excess, len(candidates))] {
		ids = append(ids, b.ID)
	}
	if len(ids) == 0 {
		return nil, ""
	}
	return ids, reason
}

// idleKey orders blocks from the longest idle; a busy block sorts last.
func idleKey(b Block) int64 {
	if b.IdleSince.IsZero() {
		return math.MaxInt64
	}
	return b.IdleSince.UnixNano()
}
