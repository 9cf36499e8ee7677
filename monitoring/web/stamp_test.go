package web

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestParseStamp(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		want := time.Unix(r.Int64N(4_000_000_000)-1_000_000_000, r.Int64N(1e9)).UTC().Truncate(time.Microsecond)
		s := want.Format("2006-01-02 15:04:05.000000")
		got, ok := parseStamp([]byte(s))
		if !ok || math.Abs(got-float64(want.UnixMicro())/1e6) > 1e-6 {
			t.Fatalf("parseStamp(%q) = %v, %v; want %v", s, got, ok, float64(want.UnixMicro())/1e6)
		}
	}
	for s, want := range map[string]float64{
		"1970-01-01 00:00:00":        0,
		"1970-01-01 00:00:01.5":      1.5,
		"2000-02-29T12:00:00.25":     951825600.25,
		"2026-03-04 10:00:00.000000": 1772618400,
	} {
		if got, ok := parseStamp([]byte(s)); !ok || got != want {
			t.Errorf("parseStamp(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "2026-03-04", "2026-13-04 10:00:00", "2026/03/04 10:00:00", "20x6-03-04 10:00:00", "1772618400"} {
		if _, ok := parseStamp([]byte(s)); ok {
			t.Errorf("parseStamp(%q) accepted", s)
		}
	}
}
