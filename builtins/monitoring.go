package builtins

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/monitoring"
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
	m := &runMonitor{rec: rec}
	if s.opts.Tracker != nil && h.resources {
		m.unwatch = s.opts.Tracker.Watch(rec)
	}
	s.log.Info("monitoring", "database", path, "resource_monitoring_enabled", h.resources,
		"resource_monitoring_interval", h.resourceInterval)
	return m, nil
}

// observers fans task events out to several observers (the progress line
// and the monitoring database).
type observers []dfk.Observer

func (os observers) TaskEvent(e dfk.Event) {
	for _, o := range os {
		o.TaskEvent(e)
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
