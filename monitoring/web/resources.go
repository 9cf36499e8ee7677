package web

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
)

// resourceRow is one sample of a try's processes.
type resourceRow struct {
	Try                  int
	Time                 string
	Offset               float64 // seconds since the task's first sample
	PID                  sql.NullInt64
	CPUUser, CPUSystem   sql.NullFloat64
	RSS, VMS             sql.NullFloat64
	DiskRead, DiskWrite  sql.NullFloat64
	Children             sql.NullFloat64
	CPUPercent, MemPerct sql.NullFloat64
}

// resourceLimit bounds the samples listed per task: a week-long try
// sampled every second has more than a page can hold, and the chart
// shows the shape of all of them anyway.
const resourceLimit = 500

func loadResources(ctx context.Context, db *sql.DB, run *runSummary, d *taskDetail) error {
	rows, err := db.QueryContext(ctx, `SELECT try_id, timestamp, `+secs("timestamp")+`, psutil_process_pid,
		psutil_process_time_user, psutil_process_time_system, psutil_process_memory_resident, psutil_process_memory_virtual,
		psutil_process_disk_read, psutil_process_disk_write, psutil_process_children_count,
		psutil_process_cpu_percent, psutil_process_memory_percent
		FROM resource WHERE task_id = ? AND run_id = ? ORDER BY try_id, timestamp`, d.ID, run.RunID)
	if err != nil {
		return fmt.Errorf("read resources of task %d: %w", d.ID, err)
	}
	defer rows.Close()
	var all []resourceRow
	var first float64
	for rows.Next() {
		var r resourceRow
		var ts float64
		if err := rows.Scan(&r.Try, &r.Time, &ts, &r.PID, &r.CPUUser, &r.CPUSystem, &r.RSS, &r.VMS,
			&r.DiskRead, &r.DiskWrite, &r.Children, &r.CPUPercent, &r.MemPerct); err != nil {
			return fmt.Errorf("read resources of task %d: %w", d.ID, err)
		}
		if len(all) == 0 {
			first = ts
		}
		r.Offset = ts - first
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read resources of task %d: %w", d.ID, err)
	}
	if len(all) == 0 {
		return nil
	}
	rss := make([]float64, len(all))
	cpu := make([]float64, len(all))
	for i, r := range all {
		rss[i] = r.RSS.Float64
		cpu[i] = r.CPUUser.Float64 + r.CPUSystem.Float64
		d.ResourceMaxRSS = math.Max(d.ResourceMaxRSS, rss[i])
		d.ResourceCPU = math.Max(d.ResourceCPU, cpu[i])
	}
	d.RSSChart = sparkline(rss)
	d.CPUChart = sparkline(cpu)
	d.Resources = all
	if len(all) > resourceLimit {
		d.Resources, d.ResourcesMore = all[len(all)-resourceLimit:], true
	}
	return nil
}

// Sparkline geometry (viewBox units).
const (
	sparkWidth  = 300
	sparkHeight = 40
)

// sparkline draws values as a polyline over the sample index: the
// samples come at the monitoring interval, so index is time.
func sparkline(values []float64) string {
	if len(values) < 2 {
		return ""
	}
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	if top <= 0 {
		top = 1
	}
	var b strings.Builder
	for i, v := range values {
		x := float64(i) / float64(len(values)-1) * sparkWidth
		y := sparkHeight - 2 - v/top*(sparkHeight-4)
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	return b.String()
}
