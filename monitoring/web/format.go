package web

import (
	"database/sql"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var templateFuncs = template.FuncMap{
	"secs":     formatSecs,
	"nsecs":    formatNullSecs,
	"duration": func(d time.Duration) string { return formatSecs(d.Seconds()) },
	"num":      formatInt,
	"bytes":    formatBytes,
	"nbytes":   func(v sql.NullFloat64) string { return nullOr(v, formatBytes) },
	"clock":    formatClock,
	"when":     func(t time.Time) string { return t.Format("2006-01-02 15:04:05") },
	"stateBar": stateBar,
	"tasksURL": tasksURL,
	"sub":      func(a, b int) int { return a - b },
	"plural":   plural,
}

// plural counts things in English: 1 task, 2 tasks, 3 tries.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return formatInt(n) + " " + strings.TrimSuffix(word, "y") + "ies"
	}
	return formatInt(n) + " " + word + "s"
}

// formatSecs writes a duration in seconds with the precision a reader
// wants at its size.
func formatSecs(s float64) string {
	switch {
	case math.IsNaN(s) || s < 0:
		return "–"
	case math.Round(s*1e3) < 1:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case math.Round(s*1e3) < 1000: // 0.9999999 s reads as 1.00 s, not 1000 ms
		return fmt.Sprintf("%.0f ms", s*1e3)
	case s < 60:
		return fmt.Sprintf("%.2f s", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%dh %02dm", int(s)/3600, int(s)%3600/60)
	}
}

func formatNullSecs(v sql.NullFloat64) string { return nullOr(v, formatSecs) }

func nullOr(v sql.NullFloat64, f func(float64) string) string {
	if !v.Valid {
		return "–"
	}
	return f(v.Float64)
}

// formatInt groups thousands: 100,000 tasks reads at a glance.
func formatInt(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func formatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// formatClock shortens a stored timestamp to milliseconds: the date and
// microseconds of every row are noise in a table.
func formatClock(ts string) string {
	if ts == "" {
		return "–"
	}
	if i := strings.IndexByte(ts, '.'); i > 0 && len(ts) > i+4 {
		ts = ts[:i+4]
	}
	return ts
}

// stateSegment is one part of a tasks-by-state bar.
type stateSegment struct {
	State string
	N     int
	Pct   float64
}

// stateBar is the proportions of a run's states, for an inline bar.
func stateBar(c stateCounts) []stateSegment {
	total := c.Total()
	if total == 0 {
		return nil
	}
	var out []stateSegment
	for _, sc := range c.List() {
		out = append(out, stateSegment{sc.State, sc.N, math.Round(float64(sc.N)*1000/float64(total)) / 10})
	}
	return out
}

// tasksURL links to a run's task table with a filter: pairs of name and
// value, empty values left out.
func tasksURL(run string, kv ...string) template.URL {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u := "/runs/" + url.PathEscape(run) + "/tasks"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return template.URL(u)
}
