package builtins

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/htex"
	"github.com/starflow-hpc/starflow/executors/scaling"
	"github.com/starflow-hpc/starflow/monitoring"
	"github.com/starflow-hpc/starflow/providers"
)

// MonitoringHub is Parsl's MonitoringHub: given as Config(monitoring=...),
// it makes the run record its tasks into runinfo/NNN/monitoring.db.
// Parsl's hub is a set of processes the workers send messages to; starflow
// writes the database from the starflow process itself, so hub_address,
// hub_port, hub_port_range and logdir are accepted and mean nothing.
type MonitoringHub struct {
	hubAddress       string
	hubPort          starlark.Value
	hubPortRange     starlark.Value
	workflowName     string
	workflowVersion  string
	loggingEndpoint  string // "" is the run folder's monitoring.db
	logdir           starlark.Value
	debug            bool
	resources        bool
	resourceInterval float64 // seconds
}

var _ starlark.HasAttrs = (*MonitoringHub)(nil)

// monitoringBuiltins are the constructors this file adds to the
// predeclared names (and to the parsl module).
func monitoringBuiltins() starlark.StringDict {
	return starlark.StringDict{"MonitoringHub": starlark.NewBuiltin("MonitoringHub", newMonitoringHub)}
}

// newMonitoringHub is MonitoringHub(hub_address="127.0.0.1", hub_port=None,
// hub_port_range=(55050, 56000), workflow_name=None, workflow_version=None,
// logging_endpoint=None, logdir=None, monitoring_debug=False,
// resource_monitoring_enabled=True, resource_monitoring_interval=30).
func newMonitoringHub(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		hubAddress                                   = "127.0.0.1"
		hubPort, hubPortRange, logdir starlark.Value = starlark.None, starlark.None, starlark.None
		name, version, endpoint       starlark.Value = starlark.None, starlark.None, starlark.None
		debug                                        = false
		enabled                                      = true
		interval                      starlark.Value = starlark.MakeInt(30)
	)
	if err := unpackArgs(b.Name(), args, kwargs,
		"hub_address?", &hubAddress, "hub_port?", &hubPort, "hub_port_range?", &hubPortRange,
		"workflow_name?", &name, "workflow_version?", &version, "logging_endpoint?", &endpoint,
		"logdir?", &logdir, "monitoring_debug?", &debug,
		"resource_monitoring_enabled?", &enabled, "resource_monitoring_interval?", &interval); err != nil {
		return nil, err
	}
	h := &MonitoringHub{hubAddress: hubAddress, hubPort: hubPort, hubPortRange: hubPortRange, logdir: logdir,
		debug: debug, resources: enabled}
	var err error
	if h.workflowName, err = optionalString(b.Name(), "workflow_name", name); err != nil {
		return nil, err
	}
	if h.workflowVersion, err = optionalString(b.Name(), "workflow_version", version); err != nil {
		return nil, err
	}
	ep, err := optionalString(b.Name(), "logging_endpoint", endpoint)
	if err != nil {
		return nil, err
	}
	if h.loggingEndpoint, err = sqlitePath(b.Name(), ep); err != nil {
		return nil, err
	}
	secs, ok := starlark.AsFloat(interval)
	if !ok || math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
		return nil, fmt.Errorf("%s: for parameter resource_monitoring_interval: got %s, want seconds (a number, 0 or more)", b.Name(), interval.String())
	}
	h.resourceInterval = secs
	return h, nil
}

func optionalString(fn, param string, v starlark.Value) (string, error) {
	switch x := v.(type) {
	case starlark.NoneType:
		return "", nil
	case starlark.String:
		return string(x), nil
	}
	return "", fmt.Errorf("%s: for parameter %s: got %s, want a string or None", fn, param, v.Type())
}

// sqlitePath turns Parsl's logging_endpoint, an SQLAlchemy URL, into the
// file it names: sqlite:///rel/path or sqlite:////abs/path.
func sqlitePath(fn, endpoint string) (string, error) {
	if endpoint == "" {
		return "", nil
	}
	path, ok := strings.CutPrefix(endpoint, "sqlite:///")
	if !ok || path == "" {
		return "", fmt.Errorf("%s: for parameter logging_endpoint: got %q, want sqlite:///PATH (starflow writes SQLite only) or None for the run folder's monitoring.db", fn, endpoint)
	}
	return path, nil
}

func (h *MonitoringHub) String() string {
	return fmt.Sprintf("MonitoringHub(hub_address=%q, resource_monitoring_enabled=%s, resource_monitoring_interval=%s)",
		h.hubAddress, pyBool(h.resources), starlark.Float(h.resourceInterval).String())
}
func (h *MonitoringHub) Type() string          { return "MonitoringHub" }
func (h *MonitoringHub) Freeze()               {}
func (h *MonitoringHub) Truth() starlark.Bool  { return true }
func (h *MonitoringHub) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: MonitoringHub") }

func (h *MonitoringHub) AttrNames() []string {
	return []string{"hub_address", "hub_port", "hub_port_range", "logdir", "logging_endpoint", "monitoring_debug",
		"resource_monitoring_enabled", "resource_monitoring_interval", "workflow_name", "workflow_version"}
}

func (h *MonitoringHub) Attr(name string) (starlark.Value, error) {
	switch name {
	case "hub_address":
		return starlark.String(h.hubAddress), nil
	case "hub_port":
		return h.hubPort, nil
	case "hub_port_range":
		return h.hubPortRange, nil
	case "logdir":
		return h.logdir, nil
	case "logging_endpoint":
		return noneIfEmpty(h.loggingEndpoint, "sqlite:///"), nil
	case "monitoring_debug":
		return starlark.Bool(h.debug), nil
	case "resource_monitoring_enabled":
		return starlark.Bool(h.resources), nil
	case "resource_monitoring_interval":
		return starlark.Float(h.resourceInterval), nil
	case "workflow_name":
		return noneIfEmpty(h.workflowName, ""), nil
	case "workflow_version":
		return noneIfEmpty(h.workflowVersion, ""), nil
	}
	return nil, nil
}

func noneIfEmpty(s, prefix string) starlark.Value {
	if s == "" {
		return starlark.None
	}
	return starlark.String(prefix + s)
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// runMonitor is a run's monitoring database while the run goes.
type runMonitor struct {
	rec     *monitoring.Recorder
	unwatch func() // stops the bash tracker's reports
	// interval is how often workers sample their tries; 0 when they do
	// not (resource monitoring off, or resource_monitoring_interval=0).
	interval time.Duration
}

// close writes what is left; the run's tasks are all finished or
// cancelled by now.
func (m *runMonitor) close() error {
	if m == nil {
		return nil
	}
	if m.unwatch != nil {
		m.unwatch()
	}
	return m.rec.Close()
}

// startMonitoring opens the run's database when the configuration asks
// for monitoring; nil, nil when it does not.
func (s *Session) startMonitoring(cfg *Config, dir, defaultLabel string, remote map[string]bool) (*runMonitor, error) {
	h := cfg.monitoring
	if h == nil {
		return nil, nil
	}
	path := h.loggingEndpoint
	if path == "" {
		path = filepath.Join(dir, monitoring.FileName)
	}
	name := h.workflowName
	if name == "" && len(s.opts.Argv) > 0 {
		name = filepath.Base(s.opts.Argv[0]) // Parsl names a workflow after its script
	}
	opts := monitoring.Options{
		Path: path, RunDir: dir, WorkflowName: name, WorkflowVersion: h.workflowVersion,
		DefaultExecutor: defaultLabel, Remote: remote, Resources: h.resources,
		Logger: s.log.Named("monitoring"), Debug: h.debug,
	}
	if h.resources {
		opts.ResourceInterval = time.Duration(h.resourceInterval * float64(time.Second))
	}
	rec, err := monitoring.NewRecorder(context.WithoutCancel(s.ctx), opts)
	if err != nil {
		return nil, err
	}
	m := &runMonitor{rec: rec, interval: opts.ResourceInterval}
	if s.opts.Tracker != nil && h.resources {
		m.unwatch = s.opts.Tracker.Watch(rec)
	}
	s.log.Info("monitoring", "database", path, "resource_monitoring_enabled", h.resources,
		"resource_monitoring_interval", h.resourceInterval)
	return m, nil
}

// watchHTEX makes an interchange report its workers to the database
// (node rows) and, with resource monitoring on, ask them for samples of
// their tries (resource rows). It returns what the executor's blocks
// report their states to (block rows). Nothing without monitoring.
func (m *runMonitor) watchHTEX(cfg *htex.Config) func(time.Time, scaling.BlockStatus) {
	if m == nil {
		return nil
	}
	b := &blockLog{rec: m.rec, label: cfg.Label, last: map[string]string{}, jobs: map[string]string{}}
	cfg.OnWorker = func(e htex.WorkerEvent) {
		m.rec.NodeStatus(monitoring.NodeEvent{Host: e.Where.Host, UID: e.Where.Worker, Block: e.Where.Block,
			Cores: e.Cores, Memory: int64(min(e.Memory, math.MaxInt64)), Workers: e.Slots, Active: e.Active, At: e.At})
		if e.Active {
			b.joined(e.Where.Block, e.At)
		}
	}
	if m.interval > 0 {
		cfg.ResourceInterval = m.interval
		cfg.OnResources = m.samples
	}
	return b.status
}

func (m *runMonitor) samples(_ dfk.Where, batch []htex.ResourceSample) {
	out := make([]monitoring.Sample, len(batch))
	for i, s := range batch {
		out[i] = monitoring.Sample{Task: s.ID, Try: s.Try, At: s.At, PID: s.PID, Usage: s.Usage,
			CPUPercent: s.CPUPercent, MemoryPercent: s.MemoryPercent}
	}
	m.rec.RemoteSamples(out)
}

// blockLog records an executor's blocks as they change state, one block
// row per change: the states its provider's polls read, and RUNNING as
// soon as a worker of a pending block registers, since a scheduler polled
// seldom (squeue) may never be seen running a short block.
type blockLog struct {
	rec   *monitoring.Recorder
	label string

	mu   sync.Mutex
	last map[string]string // block -> the state recorded last
	jobs map[string]string // block -> its job id
}

func (b *blockLog) status(at time.Time, st scaling.BlockStatus) {
	b.record(strconv.Itoa(st.ID), st.JobID, st.Status.State.String(), at)
}

func (b *blockLog) joined(block string, at time.Time) {
	b.mu.Lock()
	pending := b.last[block] == providers.Pending.String()
	b.mu.Unlock()
	if pending {
		b.record(block, "", providers.Running.String(), at)
	}
}

func (b *blockLog) record(block, job, state string, at time.Time) {
	b.mu.Lock()
	if job == "" {
		job = b.jobs[block]
	} else {
		b.jobs[block] = job
	}
	same := b.last[block] == state
	b.last[block] = state
	b.mu.Unlock()
	if !same {
		b.rec.BlockStatus(monitoring.BlockEvent{Executor: b.label, Block: block, JobID: job, Status: state, At: at})
	}
}

// observers fans task events out to several observers (the progress line
// and the monitoring database).
type observers []dfk.Observer

func (os observers) TaskEvent(e dfk.Event) {
	for _, o := range os {
		o.TaskEvent(e)
	}
}

// TaskKey passes memo keys to the observers that want them (the
// recorder's task_hashsum).
func (os observers) TaskKey(id int, key dfk.Key) {
	for _, o := range os {
		if ko, ok := o.(dfk.KeyObserver); ok {
			ko.TaskKey(id, key)
		}
	}
}

// observerOf combines the host's observer with the run's recorder.
func observerOf(host dfk.Observer, m *runMonitor) dfk.Observer {
	switch {
	case m == nil:
		return host
	case host == nil:
		return m.rec
	}
	return observers{host, m.rec}
}
