// Package time is Python's time module for starflow scripts. The clock
// and sleep are the host's (injected), so tests can stop time.
//
//	time = module(time, time_ns, monotonic, monotonic_ns, perf_counter,
//	              perf_counter_ns, sleep, gmtime, localtime, mktime, strftime,
//	              asctime, ctime, struct_time, timezone, altzone, daylight, tzname)
//
//	def time():                      # seconds since the epoch, a float
//	def sleep(secs):
//	def gmtime(secs=None):           # a struct_time in UTC
//	def localtime(secs=None):        # a struct_time in local time
//	def mktime(t):                   # the inverse of localtime
//	def strftime(format, t=None):    # C's directives, in the C locale
//	def asctime(t=None):  def ctime(secs=None):
//
// A struct_time is a 9-tuple (tm_year, tm_mon, tm_mday, tm_hour, tm_min,
// tm_sec, tm_wday, tm_yday, tm_isdst) with those attributes plus tm_zone
// and tm_gmtoff; strftime and mktime also take a plain 9-tuple.
// monotonic and perf_counter count seconds from when the module was made.
// Not provided: strptime, process_time, thread_time, the clock_* functions.
package time

import (
	"math"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// SleepFunc sleeps for d on behalf of thread, returning early with an
// error if the script is interrupted.
type SleepFunc func(thread *starlark.Thread, d time.Duration) error

// Module returns a fresh time module reading the clock now (time.Now if
// nil) and sleeping with sleep (time.Sleep if nil).
func Module(now func() time.Time, sleep SleepFunc) *starlarkstruct.Module {
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = func(_ *starlark.Thread, d time.Duration) error { time.Sleep(d); return nil }
	}
	c := &clock{now: now, sleep: sleep, start: now()}
	b := func(name string, fn builtinFunc) *starlark.Builtin { return starlark.NewBuiltin("time."+name, fn) }
	m := starlark.StringDict{
		"time":            b("time", c.seconds(func(t time.Time) float64 { return seconds(t.UnixNano()) })),
		"time_ns":         b("time_ns", c.nanos(func(t time.Time) int64 { return t.UnixNano() })),
		"monotonic":       b("monotonic", c.seconds(c.elapsed)),
		"perf_counter":    b("perf_counter", c.seconds(c.elapsed)),
		"monotonic_ns":    b("monotonic_ns", c.nanos(func(t time.Time) int64 { return int64(t.Sub(c.start)) })),
		"perf_counter_ns": b("perf_counter_ns", c.nanos(func(t time.Time) int64 { return int64(t.Sub(c.start)) })),
		"sleep":           b("sleep", c.sleepBuiltin),
		"gmtime":          b("gmtime", c.structTime(time.UTC)),
		"localtime":       b("localtime", c.structTime(time.Local)),
		"mktime":          b("mktime", mktime),
		"strftime":        b("strftime", c.strftime),
		"asctime":         b("asctime", c.asctime),
		"ctime":           b("ctime", c.ctime),
		"struct_time":     b("struct_time", newStructTime),
	}
	for k, v := range zoneInfo(c.start) {
		m[k] = v
	}
	return &starlarkstruct.Module{Name: "time", Members: m}
}

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

type clock struct {
	now   func() time.Time
	sleep SleepFunc
	start time.Time
}

func (c *clock) elapsed(t time.Time) float64 { return seconds(int64(t.Sub(c.start))) }

// seconds converts nanoseconds as CPython does (_PyTime_AsSecondsDouble),
// so that time.time() has Python's bits.
func seconds(ns int64) float64 {
	if ns%1e9 == 0 {
		return float64(ns / 1e9)
	}
	return float64(ns) / 1e9
}

func (c *clock) seconds(f func(time.Time) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return starlark.Float(f(c.now())), nil
	}
}

func (c *clock) nanos(f func(time.Time) int64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return starlark.MakeInt64(f(c.now())), nil
	}
}

func (c *clock) sleepBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	secs, ok := starlark.AsFloat(v)
	if !ok {
		return nil, pyerr.New("TypeError", b.Name(), "%s object cannot be interpreted as an integer", pyerr.TypeRepr(v))
	}
	if secs < 0 || math.IsNaN(secs) {
		return nil, pyerr.New("ValueError", b.Name(), "sleep length must be non-negative")
	}
	if secs > float64(math.MaxInt64)/1e9 {
		return nil, pyerr.New("OverflowError", b.Name(), "sleep length is too large")
	}
	return starlark.None, c.sleep(thread, time.Duration(secs*1e9))
}

// secondsArg is the optional secs argument of gmtime, localtime, ctime:
// None means now.
func (c *clock) secondsArg(op string, v starlark.Value) (time.Time, error) {
	if v == starlark.None {
		return c.now(), nil
	}
	secs, ok := starlark.AsFloat(v)
	if !ok {
		return time.Time{}, pyerr.New("TypeError", op, "%s object cannot be interpreted as an integer", pyerr.TypeRepr(v))
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) {
		return time.Time{}, pyerr.New("ValueError", op, "Invalid value %v", secs)
	}
	whole := math.Floor(secs)
	return time.Unix(int64(whole), 0), nil
}

func (c *clock) structTime(loc *time.Location) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var secs starlark.Value = starlark.None
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &secs); err != nil {
			return nil, err
		}
		t, err := c.secondsArg(b.Name(), secs)
		if err != nil {
			return nil, err
		}
		return fromTime(t.In(loc)), nil
	}
}

func mktime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	st, err := toStructTime(b.Name(), v)
	if err != nil {
		return nil, err
	}
	t := time.Date(st.f[0], time.Month(st.f[1]), st.f[2], st.f[3], st.f[4], st.f[5], 0, time.Local)
	return starlark.Float(float64(t.Unix())), nil
}

// timeArg is the optional struct_time argument of strftime and asctime:
// None means the local time now.
func (c *clock) timeArg(op string, v starlark.Value) (*StructTime, error) {
	if v == starlark.None {
		return fromTime(c.now().In(time.Local)), nil
	}
	return toStructTime(op, v)
}

func (c *clock) strftime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var format string
	var t starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &format, &t); err != nil {
		return nil, err
	}
	st, err := c.timeArg(b.Name(), t)
	if err != nil {
		return nil, err
	}
	return starlark.String(strftime(format, st)), nil
}

func (c *clock) asctime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var t starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &t); err != nil {
		return nil, err
	}
	st, err := c.timeArg(b.Name(), t)
	if err != nil {
		return nil, err
	}
	return starlark.String(strftime("%a %b %e %H:%M:%S %Y", st)), nil
}

func (c *clock) ctime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var secs starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &secs); err != nil {
		return nil, err
	}
	t, err := c.secondsArg(b.Name(), secs)
	if err != nil {
		return nil, err
	}
	return starlark.String(strftime("%a %b %e %H:%M:%S %Y", fromTime(t.In(time.Local)))), nil
}

// zoneInfo is time.timezone, altzone, daylight and tzname for the local
// zone in the year of now.
func zoneInfo(now time.Time) starlark.StringDict {
	year := now.In(time.Local).Year()
	jan := time.Date(year, 1, 1, 0, 0, 0, 0, time.Local)
	jul := time.Date(year, 7, 1, 0, 0, 0, 0, time.Local)
	janName, janOff := jan.Zone()
	julName, julOff := jul.Zone()
	std, stdName, dst, dstName := janOff, janName, julOff, julName
	if julOff < janOff { // southern hemisphere: summer in January
		std, stdName, dst, dstName = julOff, julName, janOff, janName
	}
	return starlark.StringDict{
		"timezone": starlark.MakeInt(-std),
		"altzone":  starlark.MakeInt(-dst),
		"daylight": starlark.MakeInt(boolInt(std != dst)),
		"tzname":   starlark.Tuple{starlark.String(stdName), starlark.String(dstName)},
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
