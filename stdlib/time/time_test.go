package time

import (
	"testing"
	gotime "time"
)

func TestStrftime(t *testing.T) {
	t.Parallel()
	newYear := fromTime(gotime.Date(2023, 1, 1, 0, 30, 5, 0, gotime.UTC)) // a Sunday
	for _, tt := range []struct{ format, want string }{
		{"%Y-%m-%dT%H:%M:%S", "2023-01-01T00:30:05"},
		{"%I %p %l", "12 AM 12"},
		{"%U %W %w %u %j", "01 00 0 7 001"},
		{"%G %V %g", "2022 52 22"},
		{"%C %y %e", "20 23  1"},
		{"%s", "1672533005"},
		{"100%% %q %", "100% %q %"},
		{"%n%t", "\n\t"},
	} {
		if got := strftime(tt.format, newYear); got != tt.want {
			t.Errorf("strftime(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ns   int64
		want float64
	}{
		{1709647629000000000, 1709647629},
		{1709647629250000000, 1709647629.2499998},
		{1500, 1.5e-06},
	} {
		if got := seconds(tt.ns); got != tt.want {
			t.Errorf("seconds(%d) = %v, want %v", tt.ns, got, tt.want)
		}
	}
}
