package mpi

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

func TestExpandHostlist(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // comma-joined
	}{
		{"n1", "n1"},
		{"n[1-3]", "n1,n2,n3"},
		{"n[1-3],gpu7", "n1,n2,n3,gpu7"},
		{"nid[08-11]", "nid08,nid09,nid10,nid11"},
		{"n[8-10]", "n8,n9,n10"},
		{"a[1,3-4],b[2]", "a1,a3,a4,b2"},
		{"r[1-2]n[1-2]", "r1n1,r1n2,r2n1,r2n2"},
		{"x[1-2]-ib", "x1-ib,x2-ib"},
		{"node-a, node-b", "node-a,node-b"},
		{"n[007-009]", "n007,n008,n009"},
	} {
		got, err := ExpandHostlist(tc.in)
		if err != nil {
			t.Errorf("ExpandHostlist(%q): %v", tc.in, err)
			continue
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("ExpandHostlist(%q) = %v, want %s", tc.in, got, tc.want)
		}
	}
}

func TestExpandHostlistErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "names no host"},
		{"n[1-3", "unclosed ["},
		{"n1-3]", "] without ["},
		{"n[3-1]", "runs backwards"},
		{"n[a-b]", `"a-b" is not a number`},
		{"n[1-]", `"1-" is not a number`},
		{"n[1-100000000]", "more than"},
		{"n[[1]]", "unbalanced"},
	} {
		_, err := ExpandHostlist(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ExpandHostlist(%q) error = %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestDiscoverNodes(t *testing.T) {
	t.Parallel()
	files := map[string]string{"/pbs/nodes": "c1\nc1\nc2\n\nc2\nc3\n", "/pbs/empty": "\n"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    string
		source  Source
		wantErr string
	}{
		{name: "slurm job list", env: map[string]string{"SLURM_JOB_NODELIST": "n[1-3]", "SLURM_NODELIST": "n1"}, want: "n1,n2,n3", source: FromSlurm},
		{name: "slurm old name", env: map[string]string{"SLURM_NODELIST": "n[2-3]"}, want: "n2,n3", source: FromSlurm},
		{name: "slurm wins over pbs", env: map[string]string{"SLURM_NODELIST": "n1", "PBS_NODEFILE": "/pbs/nodes"}, want: "n1", source: FromSlurm},
		{name: "pbs deduplicated in order", env: map[string]string{"PBS_NODEFILE": "/pbs/nodes"}, want: "c1,c2,c3", source: FromPBS},
		{name: "local host", env: nil, want: "laptop", source: FromLocal},
		{name: "bad slurm list", env: map[string]string{"SLURM_JOB_NODELIST": "n[1-"}, wantErr: "SLURM_JOB_NODELIST: hostlist"},
		{name: "missing node file", env: map[string]string{"PBS_NODEFILE": "/pbs/gone"}, wantErr: "PBS_NODEFILE: file does not exist"},
		{name: "empty node file", env: map[string]string{"PBS_NODEFILE": "/pbs/empty"}, wantErr: "names no node"},
	} {
		h := Host{
			Getenv: func(k string) string { return tc.env[k] },
			ReadFile: func(p string) ([]byte, error) {
				if s, ok := files[p]; ok {
					return []byte(s), nil
				}
				return nil, fs.ErrNotExist
			},
			Hostname: "laptop",
		}
		nodes, src, err := DiscoverNodes(h)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(nodes, ",") != tc.want || src != tc.source {
			t.Errorf("%s: DiscoverNodes = %v, %q, %v; want %s from %q", tc.name, nodes, src, err, tc.want, tc.source)
		}
	}
	_, _, err := DiscoverNodes(Host{Getenv: func(string) string { return "" }})
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no list and no host name: error = %v, want one", err)
	}
	if !slices.Equal(uniqueLines("a\nb\na\n"), []string{"a", "b"}) {
		t.Error("uniqueLines keeps duplicates")
	}
}
