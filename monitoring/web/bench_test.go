package web

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"testing"
	"time"
)

// BenchmarkRunPage measures the run page of a 100,000-task run as a
// browser receives it: the time to its first byte (the header, sent
// before the charts are computed) and to its last. Each is reported as
// the median over the iterations, in milliseconds.
//
//	go test -run '^$' -bench RunPage -benchtime 20x ./monitoring/web
//
// first-view: a finished run opened by a new server each time: the
// database is opened, its schema checked and every chart computed (what
// a user waits for the first time).
// running: a run still writing (no end time, no indexes yet): computed on
// every request, since its charts change.
// reload: a finished run seen before: its charts come from the cache.
func BenchmarkRunPage(b *testing.B) {
	for _, bc := range []struct {
		name     string
		finished bool
		fresh    bool // a new server (no open database, no cache) per request
	}{
		{"first-view", true, true},
		{"running", false, false},
		{"reload", true, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			root := b.TempDir()
			makeBigRun(b, root, "000", 100_000, bc.finished)
			ts := newTestServer(b, root)
			if !bc.fresh {
				fetchTimed(b, ts.Client(), ts.URL+"/runs/000/") // opens the database
			}
			var first, whole []time.Duration
			for b.Loop() {
				if bc.fresh {
					b.StopTimer()
					ts.Close()
					ts = newTestServer(b, root)
					b.StartTimer()
				}
				fb, all := fetchTimed(b, ts.Client(), ts.URL+"/runs/000/")
				first = append(first, fb)
				whole = append(whole, all)
			}
			b.ReportMetric(median(first), "first-byte-ms")
			b.ReportMetric(median(whole), "page-ms")
		})
	}
}

// fetchTimed GETs url and returns the time to the response's first byte
// and to the end of its body.
func fetchTimed(b *testing.B, c *http.Client, url string) (first, whole time.Duration) {
	b.Helper()
	start := time.Now()
	trace := &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Since(start) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(b.Context(), trace), "GET", url, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || n < 10_000 {
		b.Fatalf("GET %s: status %d, %d bytes, %v", url, resp.StatusCode, n, err)
	}
	return first, time.Since(start)
}

// median in milliseconds.
func median(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return float64(m.Microseconds()) / 1000
}
