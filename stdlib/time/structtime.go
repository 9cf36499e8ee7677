package time

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// StructTime is Python's time.struct_time: nine ints, plus the zone.
type StructTime struct {
	f      [9]int // year, mon, mday, hour, min, sec, wday (Monday 0), yday (from 1), isdst
	zone   string
	gmtoff int
	hasTZ  bool // tm_zone and tm_gmtoff are known (not from a plain tuple)
}

var (
	_ starlark.Indexable  = (*StructTime)(nil)
	_ starlark.Sequence   = (*StructTime)(nil)
	_ starlark.HasAttrs   = (*StructTime)(nil)
	_ starlark.Comparable = (*StructTime)(nil)
)

var fieldNames = [9]string{"tm_year", "tm_mon", "tm_mday", "tm_hour", "tm_min", "tm_sec", "tm_wday", "tm_yday", "tm_isdst"}

func fromTime(t time.Time) *StructTime {
	zone, off := t.Zone()
	isdst := 0
	if t.IsDST() {
		isdst = 1
	}
	return &StructTime{
		f: [9]int{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(),
			(int(t.Weekday()) + 6) % 7, t.YearDay(), isdst},
		zone: zone, gmtoff: off, hasTZ: true,
	}
}

// toStructTime accepts a struct_time or a plain 9-tuple of ints.
func toStructTime(op string, v starlark.Value) (*StructTime, error) {
	if st, ok := v.(*StructTime); ok {
		return st, nil
	}
	seq, ok := v.(starlark.Indexable)
	if !ok || seq.Len() != 9 {
		return nil, pyerr.New("TypeError", op, "Tuple or struct_time argument required")
	}
	st := new(StructTime)
	for i := range st.f {
		n, err := starlark.AsInt32(seq.Index(i))
		if err != nil {
			return nil, pyerr.New("TypeError", op, "%s: %v", fieldNames[i], err)
		}
		st.f[i] = n
	}
	return st, nil
}

func newStructTime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	st, err := toStructTime(b.Name(), v)
	if err != nil {
		return nil, err
	}
	cp := *st
	return &cp, nil
}

func (st *StructTime) String() string {
	parts := make([]string, 9)
	for i, n := range st.f {
		parts[i] = fieldNames[i] + "=" + strconv.Itoa(n)
	}
	return "time.struct_time(" + strings.Join(parts, ", ") + ")"
}
func (st *StructTime) Type() string         { return "struct_time" }
func (st *StructTime) Freeze()              {}
func (st *StructTime) Truth() starlark.Bool { return true }
func (st *StructTime) Hash() (uint32, error) {
	return st.tuple().Hash()
}
func (st *StructTime) Len() int                   { return 9 }
func (st *StructTime) Index(i int) starlark.Value { return starlark.MakeInt(st.f[i]) }
func (st *StructTime) Iterate() starlark.Iterator { return st.tuple().Iterate() }
func (st *StructTime) tuple() starlark.Tuple      { t := make(starlark.Tuple, 9); fill(t, st); return t }
func fill(t starlark.Tuple, st *StructTime) {
	for i := range t {
		t[i] = st.Index(i)
	}
}
func (st *StructTime) AttrNames() []string {
	return append(append([]string(nil), fieldNames[:]...), "tm_gmtoff", "tm_zone")
}

func (st *StructTime) Attr(name string) (starlark.Value, error) {
	for i, n := range fieldNames {
		if n == name {
			return st.Index(i), nil
		}
	}
	switch name {
	case "tm_zone":
		if !st.hasTZ {
			return starlark.None, nil
		}
		return starlark.String(st.zone), nil
	case "tm_gmtoff":
		if !st.hasTZ {
			return starlark.None, nil
		}
		return starlark.MakeInt(st.gmtoff), nil
	}
	return nil, nil
}

func (st *StructTime) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, st.tuple(), y.(*StructTime).tuple(), depth)
}

var (
	shortDays   = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	longDays    = [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	shortMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// strftime formats st as C's strftime does in the C locale. An unknown
// directive is copied as written, as glibc does.
func strftime(format string, st *StructTime) string {
	year, mon, mday, hour, min, sec, wday, yday := st.f[0], st.f[1], st.f[2], st.f[3], st.f[4], st.f[5], st.f[6], st.f[7]
	sunday0 := (wday + 1) % 7 // C's tm_wday
	at := func() time.Time {
		loc := time.UTC
		if st.hasTZ {
			loc = time.FixedZone(st.zone, st.gmtoff)
		}
		return time.Date(year, time.Month(mon), mday, hour, min, sec, 0, loc)
	}
	name := func(names []string, i int) string {
		if i < 0 || i >= len(names) {
			return "?"
		}
		return names[i]
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := format[i]; d {
		case 'a':
			b.WriteString(name(shortDays[:], wday))
		case 'A':
			b.WriteString(name(longDays[:], wday))
		case 'b', 'h':
			b.WriteString(name(shortMonths[:], mon-1))
		case 'B':
			b.WriteString(name(longMonths[:], mon-1))
		case 'c':
			b.WriteString(strftime("%a %b %e %H:%M:%S %Y", st))
		case 'C':
			fmt.Fprintf(&b, "%02d", year/100)
		case 'd':
			fmt.Fprintf(&b, "%02d", mday)
		case 'D':
			b.WriteString(strftime("%m/%d/%y", st))
		case 'e':
			fmt.Fprintf(&b, "%2d", mday)
		case 'F':
			b.WriteString(strftime("%Y-%m-%d", st))
		case 'G', 'g', 'V':
			y, w := at().ISOWeek()
			switch d {
			case 'G':
				fmt.Fprintf(&b, "%d", y)
			case 'g':
				fmt.Fprintf(&b, "%02d", y%100)
			default:
				fmt.Fprintf(&b, "%02d", w)
			}
		case 'H':
			fmt.Fprintf(&b, "%02d", hour)
		case 'I':
			fmt.Fprintf(&b, "%02d", (hour+11)%12+1)
		case 'j':
			fmt.Fprintf(&b, "%03d", yday)
		case 'k':
			fmt.Fprintf(&b, "%2d", hour)
		case 'l':
			fmt.Fprintf(&b, "%2d", (hour+11)%12+1)
		case 'm':
			fmt.Fprintf(&b, "%02d", mon)
		case 'M':
			fmt.Fprintf(&b, "%02d", min)
		case 'n':
			b.WriteByte('\n')
		case 'p':
			b.WriteString(ampm(hour, "AM", "PM"))
		case 'P':
			b.WriteString(ampm(hour, "am", "pm"))
		case 'r':
			b.WriteString(strftime("%I:%M:%S %p", st))
		case 'R':
			b.WriteString(strftime("%H:%M", st))
		case 's':
			fmt.Fprintf(&b, "%d", at().Unix())
		case 'S':
			fmt.Fprintf(&b, "%02d", sec)
		case 't':
			b.WriteByte('\t')
		case 'T', 'X':
			b.WriteString(strftime("%H:%M:%S", st))
		case 'u':
			fmt.Fprintf(&b, "%d", wday+1)
		case 'U':
			fmt.Fprintf(&b, "%02d", (yday-1+7-sunday0)/7)
		case 'w':
			fmt.Fprintf(&b, "%d", sunday0)
		case 'W':
			fmt.Fprintf(&b, "%02d", (yday-1+7-wday)/7)
		case 'x':
			b.WriteString(strftime("%m/%d/%y", st))
		case 'y':
			fmt.Fprintf(&b, "%02d", year%100)
		case 'Y':
			fmt.Fprintf(&b, "%d", year)
		case 'z':
			if st.hasTZ {
				off, sign := st.gmtoff, '+'
				if off < 0 {
					off, sign = -off, '-'
				}
				fmt.Fprintf(&b, "%c%02d%02d", sign, off/3600, off%3600/60)
			}
		case 'Z':
			if st.hasTZ {
				b.WriteString(st.zone)
			}
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(d)
		}
	}
	return b.String()
}

func ampm(hour int, am, pm string) string {
	if hour < 12 {
		return am
	}
	return pm
}
