package monitoring

import (
	"os"
	"testing"
)

func TestParseStatCountsFieldsAfterTheCommandName(t *testing.T) {
	t.Parallel()
	// The command name holds spaces and a ')': fields are counted from
	// its last ')'.
	line := "4242 (my (odd) app) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 30 7 2 20 0 1 0 100 123456789 321 18446744073709551615"
	st, ok := parseStat([]byte(line))
	if !ok {
		t.Fatal("parseStat refused a valid line")
	}
	want := procStat{state: 'S', pgrp: 4240, utime: 250, stime: 30, cutime: 7, cstime: 2, vsize: 123456789, rssPages: 321}
	if st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
	if st.status() != "sleeping" {
		t.Errorf("status = %q", st.status())
	}
	if _, ok := parseStat([]byte("12 (truncated) S 1")); ok {
		t.Error("parseStat accepted a truncated line")
	}
}

func TestReadStatOfThisProcess(t *testing.T) {
	t.Parallel()
	st, ok := readStat(os.Getpid())
	if !ok || st.rssPages <= 0 || st.vsize <= 0 {
		t.Errorf("readStat(self) = %+v, %v", st, ok)
	}
}
