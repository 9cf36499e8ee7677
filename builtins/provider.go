package builtins

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/providers"
	"github.com/starflow-hpc/starflow/providers/launchers"
	"github.com/starflow-hpc/starflow/providers/local"
	"github.com/starflow-hpc/starflow/providers/slurm"
)

// providerValue is a provider as a script value: what
// HighThroughputExecutor(provider=...) accepts. LocalProvider and
// SlurmProvider implement it; a new provider needs only these methods.
type providerValue interface {
	starlark.Value
	// blockSettings are the parameters every provider shares
	// (init/min/max_blocks, parallelism, walltime, ...), which the scaling
	// strategy reads.
	blockSettings() providers.Settings
	// start makes the provider for one run of an executor. ctx bounds
	// the checks it makes against its scheduler, never the blocks.
	start(ctx context.Context, host providerHost) (providers.Provider, error)
	// remote says whether blocks may run on other hosts: the interchange
	// then listens beyond loopback and workers are told every address of
	// this host.
	remote() bool
	// minPoll is the least time between two status calls: 0 for a
	// provider whose status is free (local processes), more for a shared
	// scheduler that every poll loads (squeue).
	minPoll() time.Duration
}

var (
	_ providerValue     = (*LocalProvider)(nil)
	_ starlark.HasAttrs = (*LocalProvider)(nil)
)

// LocalProvider is Parsl's LocalProvider.
type LocalProvider struct {
	settings  providers.Settings
	moveFiles *bool
}

func (p *LocalProvider) blockSettings() providers.Settings { return p.settings }
func (p *LocalProvider) remote() bool                      { return false }
func (p *LocalProvider) minPoll() time.Duration            { return 0 }
func (p *LocalProvider) start(_ context.Context, host providerHost) (providers.Provider, error) {
	return local.New(local.Config{Settings: p.settings, MoveFiles: p.moveFiles, Logger: host.log})
}

// providerHost is what a provider takes from the run that starts it.
type providerHost struct {
	log       hclog.Logger
	slurmJobs *slurm.Jobs // Options.SlurmJobs; may be nil
}

func (p *LocalProvider) String() string {
	s := p.settings
	return fmt.Sprintf("LocalProvider(init_blocks=%d, min_blocks=%d, max_blocks=%d, nodes_per_block=%d)",
		s.InitBlocks, s.MinBlocks, s.MaxBlocks, s.NodesPerBlock)
}
func (p *LocalProvider) Type() string          { return "LocalProvider" }
func (p *LocalProvider) Freeze()               {}
func (p *LocalProvider) Truth() starlark.Bool  { return true }
func (p *LocalProvider) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: LocalProvider") }
func (p *LocalProvider) AttrNames() []string {
	return []string{"cmd_timeout", "init_blocks", "max_blocks", "min_blocks", "nodes_per_block", "parallelism", "walltime", "worker_init"}
}
func (p *LocalProvider) Attr(name string) (starlark.Value, error) {
	return settingsAttr(p.settings, name), nil
}

// settingsAttr reads the shared block parameters by Parsl's names; nil for
// any other name.
func settingsAttr(s providers.Settings, name string) starlark.Value {
	switch name {
	case "init_blocks":
		return starlark.MakeInt(s.InitBlocks)
	case "min_blocks":
		return starlark.MakeInt(s.MinBlocks)
	case "max_blocks":
		return starlark.MakeInt(s.MaxBlocks)
	case "nodes_per_block":
		return starlark.MakeInt(s.NodesPerBlock)
	case "parallelism":
		return starlark.Float(s.Parallelism)
	case "worker_init":
		return starlark.String(s.WorkerInit)
	case "walltime":
		if s.Walltime == 0 {
			return starlark.None
		}
		return starlark.String(providers.FormatWalltime(s.Walltime))
	case "cmd_timeout":
		return starlark.Float(s.CmdTimeout.Seconds())
	}
	return nil
}

// blockArgs are the parameters every provider takes in a form that needs
// checking, as the script gave them; apply writes them into Settings.
type blockArgs struct {
	parallelism, walltime, cmdTimeout, launcher, moveFiles starlark.Value
}

func newBlockArgs() blockArgs {
	return blockArgs{starlark.None, starlark.None, starlark.None, starlark.None, starlark.None}
}

// apply checks the arguments and writes them into s; moveFiles is set when
// move_files was given.
func (a blockArgs) apply(fn string, s *providers.Settings, moveFiles **bool) error {
	if a.parallelism != starlark.None {
		f, ok := starlark.AsFloat(a.parallelism)
		if !ok {
			return fmt.Errorf("%s: for parameter parallelism: got %s, want a number in [0, 1]", fn, a.parallelism.Type())
		}
		s.Parallelism = f
	}
	if a.walltime != starlark.None {
		ws, ok := a.walltime.(starlark.String)
		if !ok {
			return fmt.Errorf(`%s: for parameter walltime: got %s, want "HH:MM:SS"`, fn, a.walltime.Type())
		}
		d, err := providers.ParseWalltime(string(ws))
		if err != nil {
			return fmt.Errorf("%s: %w", fn, err)
		}
		s.Walltime = d
	}
	if a.cmdTimeout != starlark.None {
		f, ok := starlark.AsFloat(a.cmdTimeout)
		if !ok {
			return fmt.Errorf("%s: for parameter cmd_timeout: got %s, want a number of seconds", fn, a.cmdTimeout.Type())
		}
		s.CmdTimeout = time.Duration(f * float64(time.Second))
	}
	switch l := a.launcher.(type) {
	case starlark.NoneType:
	case *Launcher:
		s.Launcher = l.l
	default:
		return fmt.Errorf("%s: for parameter launcher: got %s, want a launcher such as SingleNodeLauncher()", fn, a.launcher.Type())
	}
	if a.moveFiles != starlark.None {
		mf := bool(a.moveFiles.Truth())
		*moveFiles = &mf
	}
	return nil
}

// newLocalProvider is LocalProvider(...) with Parsl's defaults.
func newLocalProvider(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg := local.Defaults()
	s := &cfg.Settings
	a := newBlockArgs()
	var channel starlark.Value
	if err := unpackArgs(b.Name(), args, kwargs,
		"nodes_per_block?", &s.NodesPerBlock, "launcher?", &a.launcher, "init_blocks?", &s.InitBlocks,
		"min_blocks?", &s.MinBlocks, "max_blocks?", &s.MaxBlocks, "worker_init?", &s.WorkerInit,
		"cmd_timeout?", &a.cmdTimeout, "parallelism?", &a.parallelism, "move_files?", &a.moveFiles,
		"walltime?", &a.walltime, "channel?", &channel); err != nil {
		return nil, err
	}
	p := &LocalProvider{}
	if err := a.apply(b.Name(), s, &p.moveFiles); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	p.settings = cfg.Settings
	return p, nil
}

// Launcher is one of Parsl's launchers, as a script value.
type Launcher struct {
	name string
	l    providers.Launcher
}

func (l *Launcher) String() string        { return l.name + "()" }
func (l *Launcher) Type() string          { return l.name }
func (l *Launcher) Freeze()               {}
func (l *Launcher) Truth() starlark.Bool  { return true }
func (l *Launcher) Hash() (uint32, error) { return starlark.String(l.name).Hash() }

// launcherBuiltins are the launcher constructors, by Parsl's names.
func launcherBuiltins() starlark.StringDict {
	return starlark.StringDict{
		"SingleNodeLauncher": launcherCtor("SingleNodeLauncher", func() (providers.Launcher, []any) {
			l := launchers.NewSingleNode()
			return l, []any{"debug?", &l.Debug, "fail_on_any?", &l.FailOnAny}
		}),
		"SimpleLauncher": launcherCtor("SimpleLauncher", func() (providers.Launcher, []any) {
			l := launchers.NewSimple()
			return l, []any{"debug?", &l.Debug}
		}),
		"SrunLauncher": launcherCtor("SrunLauncher", func() (providers.Launcher, []any) {
			l := launchers.NewSrun()
			return l, []any{"debug?", &l.Debug, "overrides?", &l.Overrides}
		}),
		"MpiExecLauncher": launcherCtor("MpiExecLauncher", func() (providers.Launcher, []any) {
			l := launchers.NewMpiExec()
			return l, []any{"debug?", &l.Debug, "bind_cmd?", &l.BindCmd, "overrides?", &l.Overrides}
		}),
	}
}

// launcherCtor is a launcher's constructor: fresh returns the launcher
// with Parsl's defaults and the parameter/pointer pairs that the call's
// arguments fill in.
func launcherCtor(name string, fresh func() (providers.Launcher, []any)) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		l, params := fresh()
		if err := unpackArgs(b.Name(), args, kwargs, params...); err != nil {
			return nil, err
		}
		return &Launcher{name: b.Name(), l: l}, nil
	})
}
