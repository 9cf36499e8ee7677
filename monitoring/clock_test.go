package monitoring

import (
	"testing"
	"time"
)

func TestClockFormatsAsTimeLayout(t *testing.T) {
	t.Parallel()
	var c clock
	base := time.Date(2025, 3, 30, 1, 59, 59, 999_999_000, time.Local)
	for _, d := range []time.Duration{0, time.Microsecond, 500 * time.Millisecond, time.Second, time.Hour, -3 * time.Second} {
		at := base.Add(d)
		if got, want := c.format(at.UnixNano()), FormatTime(at); got != want {
			t.Errorf("format(%v) = %q, want %q", at, got, want)
		}
	}
	before := time.Unix(-1, 250_000_000)
	if got, want := c.format(before.UnixNano()), FormatTime(before); got != want {
		t.Errorf("format(%v) = %q, want %q", before, got, want)
	}
}
