package builtins_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/starflow-hpc/starflow/builtins"
)

func TestNextRunDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing []string // folders, or files when suffixed "!"
		want     string
	}{
		{"root missing", nil, "000"},
		{"empty", []string{}, "000"},
		{"after the last", []string{"000", "001"}, "002"},
		{"after the highest, not into a gap", []string{"000", "005"}, "006"},
		{"other names ignored", []string{"logs", "001x", "-1"}, "000"},
		{"numbered files ignored", []string{"007!"}, "000"},
		{"past 999", []string{"999"}, "1000"},
	}
	for _, tt := range tests {
		root := filepath.Join(t.TempDir(), "runinfo")
		if tt.existing != nil {
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range tt.existing {
			var err error
			if name, ok := cutBang(e); ok {
				err = os.WriteFile(filepath.Join(root, name), nil, 0o644)
			} else {
				err = os.Mkdir(filepath.Join(root, e), 0o755)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := builtins.NextRunDir(root)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != filepath.Join(root, tt.want) {
			t.Errorf("%s: got %s, want %s", tt.name, got, filepath.Join(root, tt.want))
		}
		if fi, err := os.Stat(got); err != nil || !fi.IsDir() {
			t.Errorf("%s: %s was not created: %v", tt.name, got, err)
		}
	}
}

func cutBang(s string) (string, bool) {
	if n := len(s); n > 0 && s[n-1] == '!' {
		return s[:n-1], true
	}
	return s, false
}

// Runs started at once (several starflow processes, or parsl.clear and
// load in a loop) each get their own folder, numbered without gaps.
func TestNextRunDirConcurrent(t *testing.T) {
	t.Parallel()
	const n = 32
	root := filepath.Join(t.TempDir(), "runinfo")
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = builtins.NextRunDir(root) })
	}
	wg.Wait()
	want := make([]string, n)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		want[i] = filepath.Join(root, fmt.Sprintf("%03d", i))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNextRunDirUnwritable(t *testing.T) {
	t.Parallel()
	parent := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(parent, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := builtins.NextRunDir(filepath.Join(parent, "runinfo")); err == nil {
		t.Error("NextRunDir under a file succeeded")
	}
}
