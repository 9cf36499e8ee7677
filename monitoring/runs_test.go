package monitoring

import (
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	t.Parallel()
	at, msg, f, ok := parseLogLine(`2025-01-02 03:04:05.678 [INFO]  starflow: run finished: tasks=6 done=5 failed=1 cancelled=0 error="a b=c" seconds=0.635`)
	if !ok || msg != "run finished" {
		t.Fatalf("parseLogLine: ok=%v msg=%q", ok, msg)
	}
	if want := time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.Local); !at.Equal(want) {
		t.Errorf("time = %v, want %v", at, want)
	}
	want := map[string]string{"tasks": "6", "done": "5", "failed": "1", "cancelled": "0", "error": "a b=c", "seconds": "0.635"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("field %s = %q, want %q", k, f[k], v)
		}
	}
	if _, _, _, ok := parseLogLine("not a log line"); ok {
		t.Error("accepted a line without a time")
	}
}
