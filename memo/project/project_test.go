package project_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/starflow-hpc/starflow/memo/project"
)

func TestRoot(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	for _, dir := range []string{"proj/sub/deep", "proj/inner/x", "loose/a", "fake/starflow.toml", "fake/b"} {
		if err := os.MkdirAll(filepath.Join(top, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"proj/starflow.toml", "proj/inner/starflow.toml", "loose/a/notes.txt"} {
		if err := os.WriteFile(filepath.Join(top, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		script, want string
	}{
		{"proj/x.star", "proj"},                           // marker beside the script
		{"proj/sub/deep/x.star", "proj"},                  // marker two levels up
		{"proj/inner/x/y.star", "proj/inner"},             // the nearest marker wins
		{"proj/sub/../inner/y.star", "proj/inner"},        // cleaned before the walk
		{"loose/a/x.star", "loose/a"},                     // no marker: the script's folder
		{"loose/missing/x.star", "loose/missing"},         // the folder need not exist
		{"fake/b/x.star", "fake/b"},                       // a folder named starflow.toml is no marker
		{"loose/a/notes.txt/x.star", "loose/a/notes.txt"}, // a "folder" that is a file
	}
	for _, tt := range tests {
		got, err := project.Root(filepath.Join(top, tt.script))
		if err != nil {
			t.Errorf("Root(%s): %v", tt.script, err)
			continue
		}
		if want := filepath.Join(top, tt.want); got != want {
			t.Errorf("Root(%s) = %s, want %s", tt.script, got, want)
		}
	}
}

// A relative script path is taken from the working directory, and the
// root comes back absolute.
func TestRootRelative(t *testing.T) {
	top := t.TempDir()
	sub := filepath.Join(top, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, project.Marker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	for _, tt := range []struct {
		name string
		got  func() (string, error)
	}{
		{`Root("x.star")`, func() (string, error) { return project.Root("x.star") }},
		{`RootFrom(".")`, func() (string, error) { return project.RootFrom(".") }},
		{`Root("../x.star")`, func() (string, error) { return project.Root("../x.star") }},
	} {
		got, err := tt.got()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// The temporary folder may sit behind a symlink (macOS's /var), so
		// compare what the paths name, not how.
		if !sameDir(t, got, top) || !filepath.IsAbs(got) {
			t.Errorf("%s = %s, want %s", tt.name, got, top)
		}
	}
}

func sameDir(t *testing.T, a, b string) bool {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(fa, fb)
}

func TestMemoDir(t *testing.T) {
	t.Parallel()
	if got, want := project.MemoDir("/p/q"), filepath.FromSlash("/p/q/.starflow/memo"); got != want {
		t.Errorf("MemoDir = %s, want %s", got, want)
	}
}
