package files

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

func TestParseMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode           string
		flag           int
		read, write, b bool
		bad            bool
	}{
		{mode: "r", flag: os.O_RDONLY, read: true},
		{mode: "rb", flag: os.O_RDONLY, read: true, b: true},
		{mode: "rt", flag: os.O_RDONLY, read: true},
		{mode: "w", flag: os.O_WRONLY | os.O_CREATE | os.O_TRUNC, write: true},
		{mode: "a+", flag: os.O_RDWR | os.O_CREATE | os.O_APPEND, read: true, write: true},
		{mode: "r+b", flag: os.O_RDWR, read: true, write: true, b: true},
		{mode: "xb", flag: os.O_WRONLY | os.O_CREATE | os.O_EXCL, write: true, b: true},
		{mode: "rw", bad: true},
		{mode: "r++", bad: true},
		{mode: "bt", bad: true},
		{mode: "", bad: true},
		{mode: "q", bad: true},
	} {
		flag, read, write, b, err := parseMode(tt.mode)
		if tt.bad {
			if pyerr.KindOf(err) != "ValueError" {
				t.Errorf("parseMode(%q) = %v, want a ValueError", tt.mode, err)
			}
			continue
		}
		if err != nil || flag != tt.flag || read != tt.read || write != tt.write || b != tt.b {
			t.Errorf("parseMode(%q) = %x %v %v %v %v, want %x %v %v %v", tt.mode, flag, read, write, b, err, tt.flag, tt.read, tt.write, tt.b)
		}
	}
}

func TestPath(t *testing.T) {
	t.Parallel()
	withPath := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"filepath": starlark.String("/data/x")})
	withoutPath := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"url": starlark.String("x")})
	for _, tt := range []struct {
		v    starlark.Value
		want string
		ok   bool
	}{
		{starlark.String("a/b"), "a/b", true},
		{withPath, "/data/x", true},
		{withoutPath, "", false},
		{starlark.MakeInt(3), "", false},
	} {
		got, err := Path(tt.v)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("Path(%v) = %q, %v", tt.v, got, err)
		}
	}
}

// TestConcurrentWrites has many goroutines write lines to one file and
// one stream; under -race this checks the locking, and every line must
// arrive whole.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.txt")
	f, err := Open(path, "w", starlark.None)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if err := f.WriteText("0123456789\n"); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 8*50*11 {
		t.Errorf("wrote %d bytes, want %d", len(data), 8*50*11)
	}
}
