package providers

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Settings are the block parameters every provider shares, under Parsl's
// names. Each provider's Defaults fills in Parsl's defaults for it.
type Settings struct {
	NodesPerBlock int           // nodes_per_block
	InitBlocks    int           // init_blocks: blocks started when the executor starts
	MinBlocks     int           // min_blocks: kept even when idle
	MaxBlocks     int           // max_blocks
	Parallelism   float64       // parallelism: slots wanted per outstanding task, in [0, 1]
	Walltime      time.Duration // walltime ("HH:MM:SS"); 0 means none
	WorkerInit    string        // worker_init: shell lines run before the launcher
	CmdTimeout    time.Duration // cmd_timeout: bound on each scheduler command
	Launcher      Launcher      // launcher
	// CoresPerNode and MemPerNode (GB) are cores_per_node and
	// mem_per_node, for providers that take them (Slurm); 0 means not
	// requested, and the executor learns the node's size from its workers.
	CoresPerNode int
	MemPerNode   int
}

// Validate checks every parameter and reports all that are wrong, each
// naming the parameter and the form it accepts.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.NodesPerBlock < 1 {
		bad("nodes_per_block: got %d, want an integer >= 1", s.NodesPerBlock)
	}
	if s.InitBlocks < 0 {
		bad("init_blocks: got %d, want an integer >= 0", s.InitBlocks)
	}
	if s.MinBlocks < 0 {
		bad("min_blocks: got %d, want an integer >= 0", s.MinBlocks)
	}
	if s.MaxBlocks < 1 {
		bad("max_blocks: got %d, want an integer >= 1", s.MaxBlocks)
	}
	if s.MinBlocks >= 0 && s.MaxBlocks >= 1 && s.MaxBlocks < s.MinBlocks {
		bad("max_blocks (%d) < min_blocks (%d): want min_blocks <= max_blocks", s.MaxBlocks, s.MinBlocks)
	}
	if math.IsNaN(s.Parallelism) || s.Parallelism < 0 || s.Parallelism > 1 {
		bad("parallelism: got %v, want a number in [0, 1]", s.Parallelism)
	}
	if s.Walltime < 0 {
		bad("walltime: got %v, want \"HH:MM:SS\" (e.g. \"00:10:00\")", s.Walltime)
	}
	if s.CoresPerNode < 0 {
		bad("cores_per_node: got %d, want an integer >= 1 or None", s.CoresPerNode)
	}
	if s.MemPerNode < 0 {
		bad("mem_per_node: got %d, want a number of GB >= 1 or None", s.MemPerNode)
	}
	if s.CmdTimeout <= 0 {
		bad("cmd_timeout: got %v, want a number of seconds > 0", s.CmdTimeout.Seconds())
	}
	return errors.Join(errs...)
}

// ParseWalltime reads Parsl's walltime form, "HH:MM:SS" (hours may have
// more digits; minutes and seconds are below 60), as Parsl's
// wtime_to_minutes does.
func ParseWalltime(s string) (time.Duration, error) {
	bad := fmt.Errorf("walltime: got %q, want \"HH:MM:SS\" (e.g. \"00:10:00\")", s)
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, bad
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || strings.TrimLeft(p, "0123456789") != "" {
			return 0, bad
		}
		v, err := strconv.Atoi(p)
		if err != nil || (i > 0 && v >= 60) {
			return 0, bad
		}
		n[i] = v
	}
	d := time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second
	if d <= 0 {
		return 0, fmt.Errorf("walltime: got %q, want a positive duration \"HH:MM:SS\" (e.g. \"00:10:00\")", s)
	}
	return d, nil
}

// FormatWalltime writes d as "HH:MM:SS", rounding up to the second so a
// scheduler never gets less than was asked for.
func FormatWalltime(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}
