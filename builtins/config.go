package builtins

import (
	"fmt"
	"sort"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/threadpool"
)

// executorValue is a script-level executor description; build makes the
// running executor when a configuration is loaded.
type executorValue interface {
	starlark.Value
	label() string
	build(s *Session) (dfk.Executor, error)
}

// Config is Parsl's Config.
type Config struct {
	executors        []executorValue
	retries          int
	retryHandlerFn   starlark.Callable
	runDir           string
	appCache         bool
	checkpointMode   starlark.Value
	mode             string // resolved checkpoint mode
	checkpointPeriod time.Duration
	monitoring       *MonitoringHub            // nil: no monitoring database
	extra            map[string]starlark.Value // accepted Parsl parameters kept for display
	frozen           bool
}

var (
	_ starlark.HasAttrs = (*Config)(nil)
	_ executorValue     = (*ThreadPoolExecutor)(nil)
)

// memoMode is the checkpoint mode results are kept with.
func (c *Config) memoMode() string {
	if c.mode == "" {
		return modeTaskExit
	}
	return c.mode
}

func (c *Config) String() string {
	return fmt.Sprintf("Config(executors=%s)", executorsList(c.executors))
}
func (c *Config) Type() string          { return "Config" }
func (c *Config) Freeze()               { c.frozen = true }
func (c *Config) Truth() starlark.Bool  { return true }
func (c *Config) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: Config") }

func executorsList(exs []executorValue) *starlark.List {
	l := make([]starlark.Value, len(exs))
	for i, e := range exs {
		l[i] = e
	}
	return starlark.NewList(l)
}

func (c *Config) Attr(name string) (starlark.Value, error) {
	switch name {
	case "executors":
		return executorsList(c.executors), nil
	case "retries":
		return starlark.MakeInt(c.retries), nil
	case "run_dir":
		return starlark.String(c.runDir), nil
	case "app_cache":
		return starlark.Bool(c.appCache), nil
	case "retry_handler":
		if c.retryHandlerFn == nil {
			return starlark.None, nil
		}
		return c.retryHandlerFn, nil
	case "checkpoint_mode":
		return c.checkpointMode, nil
	case "monitoring":
		if c.monitoring == nil {
			return starlark.None, nil
		}
		return c.monitoring, nil
	}
	if v, ok := c.extra[name]; ok {
		return v, nil
	}
	return nil, nil
}

func (c *Config) AttrNames() []string {
	names := []string{"app_cache", "checkpoint_mode", "executors", "monitoring", "retries", "retry_handler", "run_dir"}
	for k := range c.extra {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// configExtras are Parsl Config parameters starflow accepts; the ones that
// change behaviour are read by the issues that implement them.
var configExtras = []string{
	"checkpoint_files", "checkpoint_period", "dependency_resolver", "exit_mode",
	"garbage_collect", "internal_tasks_max_threads", "strategy", "strategy_period",
	"max_idletime", "usage_tracking", "initialize_logging",
	"project_name", "std_autopath", "memoizer",
}

// newConfig is Config(executors=[...], retries=0, retry_handler=None, ...).
func newConfig(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		exList       starlark.Iterable = starlark.NewList(nil)
		retries                        = 0
		retryHandler starlark.Value    = starlark.None
		runDir                         = "runinfo"
		appCache                       = true
		ckptMode     starlark.Value    // nil: not given
		monitor      starlark.Value    = starlark.None
	)
	c := &Config{extra: map[string]starlark.Value{}}
	pairs := []any{
		"executors?", &exList, "app_cache?", &appCache, "checkpoint_mode?", &ckptMode,
		"retries?", &retries, "retry_handler?", &retryHandler, "run_dir?", &runDir,
		"monitoring?", &monitor,
	}
	extraVals := make([]starlark.Value, len(configExtras))
	for i, name := range configExtras {
		pairs = append(pairs, name+"?", &extraVals[i])
	}
	if err := unpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return nil, err
	}
	for i, name := range configExtras {
		if extraVals[i] != nil {
			c.extra[name] = extraVals[i]
		}
	}
	if retries < 0 {
		return nil, fmt.Errorf("%s: retries must be 0 or more, got %d", b.Name(), retries)
	}
	seen := map[string]bool{}
	iter := exList.Iterate()
	defer iter.Done()
	var v starlark.Value
	for iter.Next(&v) {
		ev, ok := v.(executorValue)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter executors: got %s, want an executor such as ThreadPoolExecutor()", b.Name(), v.Type())
		}
		if seen[ev.label()] {
			return nil, fmt.Errorf("%s: two executors labelled %q; give each a distinct label=", b.Name(), ev.label())
		}
		seen[ev.label()] = true
		c.executors = append(c.executors, ev)
	}
	if len(c.executors) == 0 {
		c.executors = []executorValue{&ThreadPoolExecutor{label_: "threads", maxThreads: 2}}
	}
	if retryHandler != starlark.None {
		fn, ok := retryHandler.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter retry_handler: got %s, want a function(exception, task_record)", b.Name(), retryHandler.Type())
		}
		c.retryHandlerFn = fn
	}
	if monitor != starlark.None {
		h, ok := monitor.(*MonitoringHub)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter monitoring: got %s, want MonitoringHub(...) or None", b.Name(), monitor.Type())
		}
		c.monitoring = h
	}
	c.retries, c.runDir, c.appCache, c.checkpointMode = retries, runDir, appCache, ckptMode
	period := c.extra["checkpoint_period"]
	if bm, ok := c.extra["memoizer"]; ok && bm != starlark.None {
		// Parsl's newer spelling; it wins over the old parameters.
		m, ok := bm.(*BasicMemoizer)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter memoizer: got %s, want BasicMemoizer(...)", b.Name(), bm.Type())
		}
		ckptMode, c.appCache = m.mode, m.memoize
		if m.period != nil {
			period = m.period
		}
	}
	var err error
	if c.mode, err = parseCheckpointMode(b.Name(), ckptMode); err != nil {
		return nil, err
	}
	if c.checkpointPeriod, err = parsePeriod(b.Name(), period); err != nil {
		return nil, err
	}
	if ckptMode == nil {
		c.checkpointMode = starlark.None
	}
	return c, nil
}

// retryHandler adapts the script's retry_handler to the kernel. It runs on
// the goroutine that saw the failure, in a thread of its own.
func (c *Config) retryHandler(s *Session) dfk.RetryHandler {
	user := c.userRetryHandler(s)
	// A try whose worker was lost costs nothing (it may never have run);
	// the kernel's default cost of every other failure is 1.
	return func(err error, info dfk.TaskInfo) (float64, error) {
		if retryFree(err, info.FailCount) {
			return 0, nil
		}
		if user == nil {
			return 1, nil
		}
		return user(err, info)
	}
}

func (c *Config) userRetryHandler(s *Session) dfk.RetryHandler {
	fn := c.retryHandlerFn
	if fn == nil {
		return nil
	}
	// An app that may run anywhere leaves the choice to the kernel, which
	// takes the first executor; the record names it as Parsl's does.
	defaultLabel := ""
	if len(c.executors) > 0 {
		defaultLabel = c.executors[0].label()
	}
	return func(err error, info dfk.TaskInfo) (float64, error) {
		if info.Executor == "" {
			info.Executor = defaultLabel
		}
		thread := s.newThread("retry_handler")
		rec := starlark.NewDict(6)
		_ = rec.SetKey(starlark.String("id"), starlark.MakeInt(info.ID))
		_ = rec.SetKey(starlark.String("func_name"), starlark.String(info.App))
		_ = rec.SetKey(starlark.String("executor"), starlark.String(info.Executor))
		_ = rec.SetKey(starlark.String("fail_count"), starlark.MakeInt(info.FailCount))
		_ = rec.SetKey(starlark.String("fail_cost"), starlark.Float(info.FailCost))
		_ = rec.SetKey(starlark.String("try_id"), starlark.MakeInt(info.Try))
		v, cerr := starlark.Call(thread, fn, starlark.Tuple{errorValueOf(err), rec}, nil)
		if cerr != nil {
			return 0, cerr
		}
		switch x := v.(type) {
		case starlark.Int:
			i, _ := x.Int64()
			return float64(i), nil
		case starlark.Float:
			return float64(x), nil
		}
		return 0, fmt.Errorf("retry_handler returned %s, want a number (the cost of this failure)", v.Type())
	}
}

// ThreadPoolExecutor is Parsl's ThreadPoolExecutor(max_threads=2, label="threads").
type ThreadPoolExecutor struct {
	label_     string
	maxThreads int
}

func (t *ThreadPoolExecutor) label() string { return t.label_ }
func (t *ThreadPoolExecutor) String() string {
	return fmt.Sprintf("ThreadPoolExecutor(label=%q, max_threads=%d)", t.label_, t.maxThreads)
}
func (t *ThreadPoolExecutor) Type() string         { return "ThreadPoolExecutor" }
func (t *ThreadPoolExecutor) Freeze()              {}
func (t *ThreadPoolExecutor) Truth() starlark.Bool { return true }
func (t *ThreadPoolExecutor) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable: ThreadPoolExecutor")
}
func (t *ThreadPoolExecutor) AttrNames() []string { return []string{"label", "max_threads"} }
func (t *ThreadPoolExecutor) Attr(name string) (starlark.Value, error) {
	switch name {
	case "label":
		return starlark.String(t.label_), nil
	case "max_threads":
		return starlark.MakeInt(t.maxThreads), nil
	}
	return nil, nil
}

func (t *ThreadPoolExecutor) build(*Session) (dfk.Executor, error) {
	return threadpool.New(t.label_, t.maxThreads)
}

func newThreadPoolExecutor(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	maxThreads, label := 2, "threads"
	var threadNamePrefix, storageAccess, workingDir starlark.Value
	if err := unpackArgs(b.Name(), args, kwargs,
		"max_threads?", &maxThreads, "thread_name_prefix?", &threadNamePrefix,
		"storage_access?", &storageAccess, "working_dir?", &workingDir, "label?", &label); err != nil {
		return nil, err
	}
	if maxThreads < 1 {
		return nil, fmt.Errorf("%s: max_threads must be at least 1, got %d", b.Name(), maxThreads)
	}
	if label == "" {
		return nil, fmt.Errorf("%s: label must not be empty", b.Name())
	}
	return &ThreadPoolExecutor{label_: label, maxThreads: maxThreads}, nil
}
