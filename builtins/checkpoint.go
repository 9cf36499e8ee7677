package builtins

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// checkpointModes are the values Parsl's checkpoint_mode takes.
var checkpointModes = []string{modeTaskExit, modePeriodic, modeDFKExit, modeManual}

// parseCheckpointMode reads checkpoint_mode: None (this run only), one of
// Parsl's modes, or nil when the script did not say (starflow's default:
// task_exit, so a rerun after a crash finds every finished result).
func parseCheckpointMode(fn string, v starlark.Value) (string, error) {
	switch x := v.(type) {
	case nil:
		return modeTaskExit, nil
	case starlark.NoneType:
		return modeNone, nil
	case starlark.String:
		for _, m := range checkpointModes {
			if string(x) == m {
				return m, nil
			}
		}
	}
	return "", fmt.Errorf("%s: for parameter checkpoint_mode: got %s, want None, %q, %q, %q or %q",
		fn, v.String(), modeTaskExit, modePeriodic, modeDFKExit, modeManual)
}

// parsePeriod reads Parsl's checkpoint_period "HH:MM:SS".
func parsePeriod(fn string, v starlark.Value) (time.Duration, error) {
	if v == nil || v == starlark.None {
		return 30 * time.Minute, nil // Parsl's default
	}
	s, ok := v.(starlark.String)
	parts := strings.Split(string(s), ":")
	if ok && len(parts) == 3 {
		var n [3]int
		good := true
		for i, p := range parts {
			x, err := strconv.Atoi(p)
			if err != nil || x < 0 || (i > 0 && x > 59) {
				good = false
			}
			n[i] = x
		}
		d := time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second
		if good && d > 0 {
			return d, nil
		}
	}
	return 0, fmt.Errorf(`%s: for parameter checkpoint_period: got %s, want "HH:MM:SS" (e.g. "00:30:00")`, fn, v.String())
}

// BasicMemoizer is Parsl's newer spelling of the memo settings:
// Config(memoizer=BasicMemoizer(checkpoint_mode=..., checkpoint_files=...,
// memoize=...)).
type BasicMemoizer struct {
	mode    starlark.Value // as given; nil when not
	period  starlark.Value
	files   starlark.Value
	memoize bool
}

var _ starlark.HasAttrs = (*BasicMemoizer)(nil)

func (m *BasicMemoizer) String() string        { return "BasicMemoizer()" }
func (m *BasicMemoizer) Type() string          { return "BasicMemoizer" }
func (m *BasicMemoizer) Freeze()               {}
func (m *BasicMemoizer) Truth() starlark.Bool  { return true }
func (m *BasicMemoizer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: BasicMemoizer") }
func (m *BasicMemoizer) AttrNames() []string   { return []string{"checkpoint_mode", "memoize"} }
func (m *BasicMemoizer) Attr(name string) (starlark.Value, error) {
	switch name {
	case "checkpoint_mode":
		if m.mode == nil {
			return starlark.None, nil
		}
		return m.mode, nil
	case "memoize":
		return starlark.Bool(m.memoize), nil
	}
	return nil, nil
}

func newBasicMemoizer(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m := &BasicMemoizer{memoize: true}
	if err := unpackArgs(b.Name(), args, kwargs,
		"checkpoint_files?", &m.files, "checkpoint_period?", &m.period,
		"checkpoint_mode?", &m.mode, "memoize?", &m.memoize); err != nil {
		return nil, err
	}
	if _, err := parseCheckpointMode(b.Name(), m.mode); err != nil {
		return nil, err
	}
	if m.mode == starlark.String(modePeriodic) {
		if _, err := parsePeriod(b.Name(), m.period); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkpointDirs lists runDir/NNN/checkpoint folders, oldest first: what
// Parsl's get_all_checkpoints returns. starflow keeps results in the
// project's memo store instead, so a Config may take these and they change
// nothing: every durable result of earlier runs is reused anyway.
func checkpointDirs(runDir string) []string {
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		p := filepath.Join(runDir, e.Name(), "checkpoint")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func getAllCheckpoints(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	runDir := "runinfo"
	if err := unpackArgs(b.Name(), args, kwargs, "rundir?", &runDir); err != nil {
		return nil, err
	}
	return stringsList(checkpointDirs(runDir)), nil
}

func getLastCheckpoint(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	runDir := "runinfo"
	if err := unpackArgs(b.Name(), args, kwargs, "rundir?", &runDir); err != nil {
		return nil, err
	}
	dirs := checkpointDirs(runDir)
	if len(dirs) > 0 {
		dirs = dirs[len(dirs)-1:]
	}
	return stringsList(dirs), nil
}

func stringsList(ss []string) *starlark.List {
	l := make([]starlark.Value, len(ss))
	for i, s := range ss {
		l[i] = starlark.String(s)
	}
	return starlark.NewList(l)
}
