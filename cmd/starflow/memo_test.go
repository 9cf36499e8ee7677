package main

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/codec"
	"github.com/starflow-hpc/starflow/memo"
)

// fileExt stands for the extension a File's codec will register: the memo
// commands do not know it, so its values are shown as bytes.
var fileExt = codec.Extension{
	Name: "File",
	Encode: func(v starlark.Value) ([]byte, bool) {
		f, ok := v.(*builtins.File)
		if !ok {
			return nil, false
		}
		return []byte(f.Filepath()), true
	},
	Decode: func(b []byte) (starlark.Value, error) { return builtins.NewFile(string(b)) },
}

// fixture is an entry of the store newStore makes, with the value before
// encoding.
type fixture struct {
	memo.Entry
	value starlark.Value
}

// t0 is when the first fixture was created; the others follow a second
// apart.
var t0 = time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)

// fixtures builds the entries newStore stores. The first two keys share
// their first 4 hex digits, so "abcd" is ambiguous.
func fixtures(t *testing.T) []fixture {
	t.Helper()
	dict := starlark.NewDict(2)
	dict.SetKey(starlark.String("energy"), starlark.Float(-1.5))
	dict.SetKey(starlark.String("ok"), starlark.True)
	list := starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.String("two"), starlark.Tuple{starlark.MakeInt(3)}})
	huge := new(big.Int).Lsh(big.NewInt(1), 100)
	file, err := builtins.NewFile("data/out.csv")
	if err != nil {
		t.Fatal(err)
	}
	fs := []fixture{
		{memo.Entry{Key: key("abcd01"), App: "simulate", Run: "runinfo/000"}, dict},
		{memo.Entry{Key: key("abcd02"), App: "simulate", Run: "runinfo/001"}, list},
		{memo.Entry{Key: key("1234"), App: "analyze", Run: "runinfo/001"}, starlark.Bytes("\x00\xffok")},
		{memo.Entry{Key: key("5678"), App: "analyze"}, starlark.MakeBigInt(huge)},
		{memo.Entry{Key: key("9abc"), App: "plot", Run: "runinfo/002"}, file},
		{memo.Entry{Key: key("def0"), App: "report", Run: "runinfo/002"}, starlark.String(strings.Repeat("x", 1200))},
	}
	c := codec.New(fileExt)
	for i := range fs {
		fs[i].Created = t0.Add(time.Duration(i) * time.Second)
		if fs[i].Value, err = c.Marshal(fs[i].value); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

// key makes a key whose hex form repeats prefix.
func key(prefix string) memo.Key {
	k, err := memo.ParseKey(strings.Repeat(prefix, 64)[:64])
	if err != nil {
		panic(err)
	}
	return k
}

// newStore makes a store holding the fixtures, closed so that the
// commands can open it.
func newStore(t *testing.T) (string, []fixture) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "memo")
	fs := fixtures(t)
	s, err := memo.Open(dir, memo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if err := s.Put(context.Background(), f.Entry); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, fs
}

// starflow runs the CLI in this process.
func starflow(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := starflow(args...)
	if code != 0 {
		t.Fatalf("starflow %s: status %d\nstderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	if errOut != "" {
		t.Errorf("starflow %s: stderr:\n%s", strings.Join(args, " "), errOut)
	}
	return out
}

func local(t time.Time) string { return t.Local().Format(time.DateTime) }

func TestMemoLs(t *testing.T) {
	t.Parallel()
	dir, fs := newStore(t)
	c := func(i int) string { return local(fs[i].Created) }
	sz := func(i int) string { return memoSize(int64(len(fs[i].Value))) }
	want := fmt.Sprintf(`KEY           APP       CREATED                 SIZE  RUN
abcd01abcd01  simulate  %s  %7s  runinfo/000
abcd02abcd02  simulate  %s  %7s  runinfo/001
123412341234  analyze   %s  %7s  runinfo/001
567856785678  analyze   %s  %7s  -
9abc9abc9abc  plot      %s  %7s  runinfo/002
def0def0def0  report    %s  %7s  runinfo/002
`, c(0), sz(0), c(1), sz(1), c(2), sz(2), c(3), sz(3), c(4), sz(4), c(5), sz(5))
	if got := mustRun(t, "memo", "ls", "--memo-dir", dir); got != want {
		t.Errorf("memo ls:\n%s\nwant:\n%s", got, want)
	}
	if sz(5) != "1.2 KiB" {
		t.Errorf("size of a 1200-character string: %s, want 1.2 KiB", sz(5))
	}

	// The size column is as wide as its widest cell.
	want = fmt.Sprintf(`KEY           APP      CREATED              SIZE  RUN
123412341234  analyze  %s  %4s  runinfo/001
567856785678  analyze  %s  %4s  -
`, c(2), sz(2), c(3), sz(3))
	if got := mustRun(t, "memo", "ls", "--memo-dir", dir, "--app", "analyze"); got != want {
		t.Errorf("memo ls --app analyze:\n%s\nwant:\n%s", got, want)
	}

	out, errOut, code := starflow("memo", "ls", "--memo-dir", dir, "--app", "nosuch")
	if code != 0 || out != "" || errOut != "memo store "+dir+" has no entries of app nosuch\n" {
		t.Errorf("memo ls --app nosuch: status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// The order is by creation, not by key or by when Put was called.
func TestMemoLsOrder(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "memo")
	s, err := memo.Open(dir, memo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"0003", "0001", "0002"} {
		when := t0.Add(-time.Duration(i) * time.Minute)
		if err := s.Put(context.Background(), memo.Entry{Key: key(p), App: p, Created: when, Value: []byte{codec.Version, 0}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	var apps []string
	for _, line := range strings.Split(strings.TrimSpace(mustRun(t, "memo", "ls", "--memo-dir", dir)), "\n")[1:] {
		apps = append(apps, strings.Fields(line)[1])
	}
	if got := strings.Join(apps, " "); got != "0002 0001 0003" {
		t.Errorf("memo ls order: %s, want 0002 0001 0003 (oldest first)", got)
	}
}

func TestMemoShow(t *testing.T) {
	t.Parallel()
	dir, fs := newStore(t)
	for _, tt := range []struct {
		prefix string
		i      int
		value  string
	}{
		{"abcd01", 0, `{"energy": -1.5, "ok": True}`},
		{"ABCD02", 1, `[1, "two", (3,)]`}, // case is ignored
		{"1234", 2, `b"\x00\xffok"`},
		{fs[3].Key.String(), 3, "1267650600228229401496703205376"}, // the whole key
	} {
		f := fs[tt.i]
		want := fmt.Sprintf(`key:      %s
app:      %s
run:      %s
created:  %s
size:     %s (%d bytes)
value:    %s
`, f.Key, f.App, orDash(f.Run), f.Created.Local().Format(time.DateTime+" MST"),
			memoSize(int64(len(f.Value))), len(f.Value), tt.value)
		if got := mustRun(t, "memo", "show", "--memo-dir", dir, tt.prefix); got != want {
			t.Errorf("memo show %s:\n%s\nwant:\n%s", tt.prefix, got, want)
		}
	}

	// A File decodes with starflow's own value codec; it prints as its path.
	got := mustRun(t, "memo", "show", "--memo-dir", dir, "9abc")
	if !strings.Contains(got, "value:    data/out.csv\n") {
		t.Errorf("memo show of a File value:\n%s", got)
	}
}

func TestMemoShowBadKey(t *testing.T) {
	t.Parallel()
	dir, fs := newStore(t)
	for _, tt := range []struct {
		prefix, stderr string
	}{
		{"abcd", "starflow: memo key abcd is ambiguous: it starts 2 keys: " + fs[0].Key.String() + ", " + fs[1].Key.String() + "\n"},
		{"ffff", "starflow: memo show: no key in " + dir + " starts with ffff\n"},
		{"abc", `starflow: memo show: key prefix "abc" is too short: give 4 or more hex digits` + "\n"},
		{"abcx", `starflow: memo key prefix "abcx": 'x' is not a hex digit` + "\n"},
	} {
		out, errOut, code := starflow("memo", "show", "--memo-dir", dir, tt.prefix)
		if code != exitUsage || out != "" || errOut != tt.stderr {
			t.Errorf("memo show %s: status %d, stdout %q, stderr:\n%s\nwant status 2 and stderr:\n%s", tt.prefix, code, out, errOut, tt.stderr)
		}
	}
}

func TestMemoClear(t *testing.T) {
	t.Parallel()
	dir, _ := newStore(t)
	if got, want := mustRun(t, "memo", "clear", "--memo-dir", dir, "--app", "analyze", "--yes"), "deleted 2 entries of app analyze from "+dir+"\n"; got != want {
		t.Errorf("memo clear --app analyze: %q, want %q", got, want)
	}
	if got := mustRun(t, "memo", "ls", "--memo-dir", dir); strings.Contains(got, "analyze") || strings.Count(got, "\n") != 5 {
		t.Errorf("memo ls after clearing analyze:\n%s", got)
	}
	if got, want := mustRun(t, "memo", "clear", "--memo-dir", dir, "-y"), "deleted 4 entries from "+dir+"\n"; got != want {
		t.Errorf("memo clear: %q, want %q", got, want)
	}
	if got, want := mustRun(t, "memo", "clear", "--memo-dir", dir, "-y"), "no entries to delete in "+dir+"\n"; got != want {
		t.Errorf("memo clear of an empty store: %q, want %q", got, want)
	}
	out, errOut, code := starflow("memo", "ls", "--memo-dir", dir)
	if code != 0 || out != "" || errOut != "memo store "+dir+" has no entries\n" {
		t.Errorf("memo ls after clear: status %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Without a terminal to ask on, clear deletes nothing unless told --yes.
// It runs as a process so that its stdin is certainly not a terminal.
func TestMemoClearNeedsYes(t *testing.T) {
	t.Parallel()
	dir, _ := newStore(t)
	cmd := exec.Command(starflowBinary(t), "memo", "clear", "--memo-dir", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	want := "starflow: memo clear: would delete 6 entries from " + dir + ", but stdin is not a terminal to confirm on: add --yes\n"
	if cmd.ProcessState.ExitCode() != exitUsage || stdout.Len() != 0 || stderr.String() != want {
		t.Errorf("memo clear without --yes: %v, stdout %q, stderr:\n%s\nwant status 2 and:\n%s", err, stdout.String(), stderr.String(), want)
	}
	if got := mustRun(t, "memo", "ls", "--memo-dir", dir); strings.Count(got, "\n") != 7 {
		t.Errorf("memo ls after a refused clear:\n%s", got)
	}
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"y\n", true}, {"Yes\n", true}, {" YES \n", true}, {"y", true},
		{"\n", false}, {"n\n", false}, {"yep\n", false}, {"", false}, {"no\ny\n", false},
	} {
		var out bytes.Buffer
		got, err := confirm(strings.NewReader(tt.in), &out, "Delete? [y/N] ")
		if err != nil || got != tt.want {
			t.Errorf("confirm(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if !strings.HasPrefix(out.String(), "Delete? [y/N] ") {
			t.Errorf("confirm(%q) asked %q", tt.in, out.String())
		}
	}
}

func TestMemoStats(t *testing.T) {
	t.Parallel()
	dir, fs := newStore(t)
	var values int64
	for _, f := range fs {
		values += int64(len(f.Value))
	}
	got := mustRun(t, "memo", "stats", "--memo-dir", dir)
	want := regexp.MustCompile(`^store:    ` + regexp.QuoteMeta(dir) + `
entries:  6 \(` + regexp.QuoteMeta(memoSize(values)) + ` of values\)
damaged:  0
on disk:  [0-9.]+ [KMG]?i?B \(sorted tables [0-9.]+ [KMG]?i?B, value log [0-9.]+ [KMG]?i?B, other [0-9.]+ [KMG]?i?B\)
per app:
  analyze   2
  plot      1
  report    1
  simulate  2
$`)
	if !want.MatchString(got) {
		t.Errorf("memo stats:\n%s\nwant to match:\n%s", got, want)
	}
}

func TestMemoGC(t *testing.T) {
	t.Parallel()
	dir, _ := newStore(t)
	mustRun(t, "memo", "clear", "--memo-dir", dir, "--app", "simulate", "--yes")
	got := mustRun(t, "memo", "gc", "--memo-dir", dir)
	want := regexp.MustCompile(`^memo store ` + regexp.QuoteMeta(dir) + `: ([0-9.]+ [KMG]?i?B) before, ([0-9.]+ [KMG]?i?B) after \(([0-9.]+ [KMG]?i?B) (freed|more: results moved from the log into the sorted tables)\)\n$`)
	if !want.MatchString(got) {
		t.Errorf("memo gc: %q, want to match %s", got, want)
	}
	// What is left is intact.
	if got := mustRun(t, "memo", "ls", "--memo-dir", dir); strings.Count(got, "\n") != 5 {
		t.Errorf("memo ls after gc:\n%s", got)
	}
}

// A damaged entry is counted, never shown, and cleared with the rest.
func TestMemoDamaged(t *testing.T) {
	t.Parallel()
	dir, fs := newStore(t)
	damageString(t, dir, strings.Repeat("x", 1200)) // the "report" entry
	damaged := fs[5].Key

	out, errOut, code := starflow("memo", "ls", "--memo-dir", dir)
	if code != 0 || strings.Contains(out, "report") || errOut != "1 damaged entries not listed: they read as misses, so their tasks run again\n" {
		t.Errorf("memo ls: status %d, stdout:\n%s\nstderr %q", code, out, errOut)
	}
	if got := mustRun(t, "memo", "stats", "--memo-dir", dir); !strings.Contains(got, "entries:  5 ") || !strings.Contains(got, "damaged:  1\n") {
		t.Errorf("memo stats:\n%s\nwant 5 entries and 1 damaged", got)
	}
	_, errOut, code = starflow("memo", "show", "--memo-dir", dir, "def0")
	if want := "starflow: memo show: entry " + damaged.String() + " is damaged ("; code != exitUsage || !strings.HasPrefix(errOut, want) {
		t.Errorf("memo show of a damaged entry: status %d, stderr %q, want 2 and %q...", code, errOut, want)
	}
	if got, want := mustRun(t, "memo", "clear", "--memo-dir", dir, "--yes"), "deleted 6 entries from "+dir+"\n"; got != want {
		t.Errorf("memo clear: %q, want %q", got, want)
	}
	if got := mustRun(t, "memo", "stats", "--memo-dir", dir); !strings.Contains(got, "entries:  0 ") || !strings.Contains(got, "damaged:  0\n") {
		t.Errorf("memo stats after clear:\n%s", got)
	}
}

// damageString flips a bit in the middle of every copy of s in the store's
// files: the database's, and the results log's under log/.
func damageString(t *testing.T, dir, s string) {
	t.Helper()
	n := 0
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.Index(b, []byte(s))
		if at < 0 {
			continue
		}
		for ; at >= 0; at = bytes.Index(b, []byte(s)) {
			b[at+len(s)/2] ^= 0x20
			n++
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatalf("%.20q... not found in %s", s, dir)
	}
}

// Without a store, ls and stats say so and succeed; the others fail. None
// of them creates one.
func TestMemoNoStore(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing")
	empty := t.TempDir() // a folder, but no store in it
	for _, dir := range []string{missing, empty} {
		msg := "no memo store at " + dir + " (nothing has been cached in this project yet)\n"
		for _, tt := range []struct {
			args   []string
			code   int
			stderr string
		}{
			{[]string{"ls"}, 0, msg},
			{[]string{"stats"}, 0, msg},
			{[]string{"show", "abcd"}, exitUsage, "starflow: " + msg},
			{[]string{"clear", "--yes"}, exitUsage, "starflow: " + msg},
			{[]string{"gc"}, exitUsage, "starflow: " + msg},
		} {
			args := append([]string{"memo"}, tt.args...)
			args = append(args, "--memo-dir", dir)
			out, errOut, code := starflow(args...)
			if code != tt.code || out != "" || errOut != tt.stderr {
				t.Errorf("starflow %s: status %d, stdout %q, stderr %q; want %d and %q",
					strings.Join(args, " "), code, out, errOut, tt.code, tt.stderr)
			}
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a memo command created the store")
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("a memo command wrote into an empty folder: %v", ents)
	}
}

// A store held by another starflow is named, holder and all, and left
// alone; --wait outlasts a holder that lets go.
func TestMemoInUse(t *testing.T) {
	t.Parallel()
	dir, _ := newStore(t)
	held, err := memo.Open(dir, memo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"ls"}, {"stats"}, {"show", "1234"}, {"clear", "--yes"}, {"gc"}} {
		args := append(append([]string{"memo"}, cmd...), "--memo-dir", dir)
		out, errOut, code := starflow(args...)
		want := "starflow: memo store " + dir + " is in use by pid " + strconv.Itoa(os.Getpid()) + " ("
		if code != exitUsage || out != "" || !strings.HasPrefix(errOut, want) || !strings.HasSuffix(errOut, "; wait for it or use --memo-dir\n") {
			t.Errorf("starflow %s on a held store: status %d, stdout %q, stderr %q; want 2 and %q...",
				strings.Join(args, " "), code, out, errOut, want)
		}
	}

	released := make(chan error)
	go func() {
		// Not a timing threshold: ls waits as long as this takes, up to
		// hangLimit.
		time.Sleep(100 * time.Millisecond)
		released <- held.Close()
	}()
	out, errOut, code := starflow("memo", "ls", "--memo-dir", dir, "--wait", hangLimit.String())
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if code != 0 || strings.Count(out, "\n") != 7 {
		t.Errorf("memo ls --wait: status %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// A store a newer starflow wrote is refused with the reason, not read.
func TestMemoNewerFormat(t *testing.T) {
	t.Parallel()
	dir, _ := newStore(t)
	if err := os.WriteFile(filepath.Join(dir, memoFormatFile), []byte("starflow memo store\nformat 99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"ls", "stats", "gc"} {
		out, errOut, code := starflow("memo", cmd, "--memo-dir", dir)
		want := fmt.Sprintf("starflow: memo store %s has format version 99, newer than the %d this starflow reads: upgrade starflow or use --memo-dir\n", dir, memo.FormatVersion)
		if code != exitUsage || out != "" || errOut != want {
			t.Errorf("memo %s of a newer store: status %d, stdout %q, stderr %q; want 2 and %q", cmd, code, out, errOut, want)
		}
	}
}

func TestMemoSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1229, "1.2 KiB"},
		{1024*1024 - 1, "1.0 MiB"}, {5 << 30, "5.0 GiB"}, {1 << 62, "4.0 EiB"},
	} {
		if got := memoSize(tt.n); got != tt.want {
			t.Errorf("memoSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
