package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/starflow-hpc/starflow/builtins"
	"github.com/starflow-hpc/starflow/memo"
	"github.com/starflow-hpc/starflow/memo/project"
)

// memoCmd groups the memo store commands (issue 4).
type memoCmd struct {
	Ls    memoLsCmd    `cmd:"" help:"List the entries: key, app, created, size, run."`
	Show  memoShowCmd  `cmd:"" help:"Show one entry and the value it holds."`
	Clear memoClearCmd `cmd:"" help:"Delete all entries, or one app's, so that their tasks run again."`
	GC    memoGCCmd    `cmd:"" name:"gc" help:"Give back the disk space of deleted and replaced entries."`
	Stats memoStatsCmd `cmd:"" help:"Count the entries per app and measure the store on disk."`
}

func (memoCmd) Help() string {
	return `The memo store keeps the result of every cached task (cache=True with
app_cache on, the default), under a key that hashes the app's code and its
inputs, so that a rerun executes only the tasks whose key has no result yet.

It lives in .starflow/memo/ at the project root: the nearest folder at or
above the current one that holds a starflow.toml, else the current folder.
--memo-dir names another store, as it does for 'starflow run'.

A store is locked while a starflow process has it open. A memo command run
during a 'starflow run' of the same project fails at once, naming that run,
unless --wait gives the run time to finish.

Examples:

  starflow memo ls --app simulate
  starflow memo show 3f2a9c0b
  starflow memo clear --app simulate
  starflow memo stats --memo-dir /scratch/me/sweep/.starflow/memo

Exit status:

  0  done (ls and stats also when there is no store yet)
  1  memo clear: not confirmed, nothing deleted
  2  bad command line, no store (show, clear, gc), store in use or unreadable`
}

// memoStoreFlags are the flags every memo command takes.
type memoStoreFlags struct {
	MemoDir string        `help:"The memo store (default: .starflow/memo at the project root)." placeholder:"DIR"`
	Wait    time.Duration `help:"How long to wait for a starflow process that holds the store, e.g. 30s or 10m (default: fail at once)." placeholder:"DURATION"`
}

// memoFormatFile is the record every store has from its creation on
// (memo's formatFile): a folder without one holds no store, and the
// read-only commands must not create one by opening it.
const memoFormatFile = "FORMAT"

// noStoreError says that nothing has been cached where the store would be.
type noStoreError struct{ dir string }

func (e *noStoreError) Error() string {
	return fmt.Sprintf("no memo store at %s (nothing has been cached in this project yet)", e.dir)
}

// dir is the store's folder: the flag as given, or the project's store
// relative to the working directory, which reads better in messages than
// an absolute path.
func (f *memoStoreFlags) dir() (string, error) {
	if f.MemoDir != "" {
		return f.MemoDir, nil
	}
	root, err := project.RootFrom(".")
	if err != nil {
		return "", err
	}
	dir := project.MemoDir(root)
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, dir); err == nil {
			dir = rel
		}
	}
	return dir, nil
}

// open opens the store, or fails with a *noStoreError when there is none.
// Damaged entries read as misses; onDamaged, when set, hears of each.
func (f *memoStoreFlags) open(onDamaged func(memo.Key, error)) (*memo.Badger, error) {
	dir, err := f.dir()
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &noStoreError{dir}
	case err != nil:
		return nil, fmt.Errorf("memo store %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("memo store %s: not a folder", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, memoFormatFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, &noStoreError{dir}
	}
	return memo.Open(dir, memo.Options{Wait: f.Wait, OnDamaged: onDamaged})
}

// damagedKeys collects the entries a store reports damaged.
type damagedKeys map[memo.Key]error

func (d damagedKeys) add(k memo.Key, err error) { d[k] = err }

// memoTime is how the memo commands print a time: local, to the second.
func memoTime(t time.Time) string { return t.Local().Format(time.DateTime) }

// memoSize prints a byte count as people read it: 512 B, 1.2 KiB, 3.0 MiB.
func memoSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, unit := float64(n)/1024, 0
	// 1023.96 KiB would print as "1024.0 KiB"; it is 1.0 MiB.
	for f >= 1023.95 && unit < len("KMGTPE")-1 {
		f /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTPE"[unit])
}

// orDash keeps an empty field visible in a column.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// closeStore closes s, reporting a failure unless the command already
// failed: the first error is the one worth reading.
func closeStore(s *memo.Badger, err *error) {
	if cerr := s.Close(); *err == nil {
		*err = cerr
	}
}

type memoLsCmd struct {
	memoStoreFlags `embed:""`
	App            string `help:"List only the entries of app NAME." placeholder:"NAME"`
}

func (memoLsCmd) Help() string {
	return `Lists one entry a line, oldest first: the first 12 hex digits of its key
(enough for 'starflow memo show'), the app that produced it, when (local
time), the size of its value, and the run folder of the run that stored it.
Damaged entries are not listed; a line on stderr counts them.`
}

type memoRow struct {
	key     memo.Key
	app     string
	run     string
	created time.Time
	size    int64
}

func (c *memoLsCmd) Run(g *globals) (err error) {
	damaged := damagedKeys{}
	s, err := c.open(damaged.add)
	var none *noStoreError
	if errors.As(err, &none) {
		fmt.Fprintln(g.stderr, err)
		return nil
	}
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	var rows []memoRow
	err = s.Scan(context.Background(), func(e memo.Entry) error {
		if c.App == "" || e.App == c.App {
			rows = append(rows, memoRow{e.Key, e.App, e.Run, e.Created, int64(len(e.Value))})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memo ls: %w", err)
	}
	slices.SortFunc(rows, func(a, b memoRow) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return slices.Compare(a.key[:], b.key[:])
	})
	if len(rows) == 0 {
		if c.App != "" {
			fmt.Fprintf(g.stderr, "memo store %s has no entries of app %s\n", s.Dir(), c.App)
		} else {
			fmt.Fprintf(g.stderr, "memo store %s has no entries\n", s.Dir())
		}
	} else if err := printRows(g.stdout, rows); err != nil {
		return err
	}
	if len(damaged) > 0 {
		fmt.Fprintf(g.stderr, "%d damaged entries not listed: they read as misses, so their tasks run again\n", len(damaged))
	}
	return nil
}

func printRows(w io.Writer, rows []memoRow) error {
	sizes := make([]string, len(rows))
	width := len("SIZE")
	for i, r := range rows {
		sizes[i] = memoSize(r.size)
		width = max(width, len(sizes[i]))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "KEY\tAPP\tCREATED\t%*s\tRUN\n", width, "SIZE")
	for i, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%*s\t%s\n",
			r.key.String()[:12], orDash(r.app), memoTime(r.created), width, sizes[i], orDash(r.run))
	}
	return tw.Flush()
}

type memoShowCmd struct {
	memoStoreFlags `embed:""`
	Key            string `arg:"" help:"The entry's key, or the start of it: 4 or more hex digits that no other key starts with." placeholder:"KEY"`
}

func (memoShowCmd) Help() string {
	return `Prints the entry's full key, app, run, creation time and size, then its
value as Starlark writes it (repr). A value this starflow cannot decode (of
a type it does not know, or damaged) is shown as a hex dump with the reason.`
}

// minKeyPrefix is the shortest prefix `memo show` takes: shorter ones are
// ambiguous in any store worth looking into.
const minKeyPrefix = 4

func (c *memoShowCmd) Run(g *globals) (err error) {
	p, err := memo.ParseKeyPrefix(c.Key)
	if err != nil {
		return err // it names the prefix and what is wrong with it
	}
	if len(p) < minKeyPrefix {
		return fmt.Errorf("memo show: key prefix %q is too short: give %d or more hex digits", p, minKeyPrefix)
	}
	damaged := damagedKeys{}
	s, err := c.open(damaged.add)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	e, err := memo.Lookup(context.Background(), s, p)
	if errors.Is(err, memo.ErrNotFound) {
		for k, derr := range damaged {
			if p.Match(k) {
				return fmt.Errorf("memo show: entry %s is damaged (%v): it reads as a miss, so its task runs again", k, derr)
			}
		}
		return fmt.Errorf("memo show: no key in %s starts with %s", s.Dir(), p)
	}
	if err != nil {
		return err // "memo key abcd is ambiguous: ...", and the keys it starts
	}
	showEntry(g.stdout, e)
	return nil
}

func showEntry(w io.Writer, e memo.Entry) {
	fmt.Fprintf(w, "key:      %s\n", e.Key)
	fmt.Fprintf(w, "app:      %s\n", orDash(e.App))
	fmt.Fprintf(w, "run:      %s\n", orDash(e.Run))
	fmt.Fprintf(w, "created:  %s\n", e.Created.Local().Format(time.DateTime+" MST"))
	fmt.Fprintf(w, "size:     %s (%d bytes)\n", memoSize(int64(len(e.Value))), len(e.Value))
	v, err := builtins.ValueCodec().Unmarshal(e.Value)
	if err != nil {
		fmt.Fprintf(w, "value:    not decoded (%v); its bytes:\n%s", err, hex.Dump(e.Value))
		return
	}
	fmt.Fprintf(w, "value:    %s\n", v.String())
}

type memoClearCmd struct {
	memoStoreFlags `embed:""`
	App            string `help:"Delete only the entries of app NAME." placeholder:"NAME"`
	Yes            bool   `short:"y" help:"Do not ask for confirmation (required when stdin is not a terminal)."`
}

func (memoClearCmd) Help() string {
	return `Deletes every entry, damaged ones included, or with --app only that app's
entries, and prints how many. The tasks whose results they were run again
on the next 'starflow run'; the disk space comes back with 'starflow memo gc'.

Asks for confirmation on the terminal. When stdin is not a terminal there is
no one to ask: --yes is required, and without it nothing is deleted.`
}

// exitNotConfirmed is memo clear's status when the user says no: the
// command did not do its job, but nothing was wrong with how it was asked.
const exitNotConfirmed = 1

// memoStdin is where `memo clear` asks for confirmation.
func memoStdin() (in io.Reader, terminal bool) {
	return os.Stdin, term.IsTerminal(int(os.Stdin.Fd()))
}

func (c *memoClearCmd) Run(g *globals) (err error) {
	damaged := damagedKeys{}
	s, err := c.open(damaged.add)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	ctx := context.Background()
	var keys []memo.Key
	err = s.Scan(ctx, func(e memo.Entry) error {
		if c.App == "" || e.App == c.App {
			keys = append(keys, e.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("memo clear: %w", err)
	}
	what := "entries"
	if c.App != "" {
		what = "entries of app " + c.App
	} else {
		// A damaged entry has no app we can trust, so only clearing
		// everything removes it.
		for k := range damaged {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		fmt.Fprintf(g.stdout, "no %s to delete in %s\n", what, s.Dir())
		return nil
	}
	if !c.Yes {
		in, terminal := memoStdin()
		if !terminal {
			return fmt.Errorf("memo clear: would delete %d %s from %s, but stdin is not a terminal to confirm on: add --yes", len(keys), what, s.Dir())
		}
		q := fmt.Sprintf("Delete %d %s from %s? Their tasks will run again. [y/N] ", len(keys), what, s.Dir())
		ok, err := confirm(in, g.stderr, q)
		if err != nil {
			return fmt.Errorf("memo clear: %w", err)
		}
		if !ok {
			fmt.Fprintln(g.stderr, "memo clear: nothing deleted")
			return &exitError{exitNotConfirmed}
		}
	}
	if err := s.Delete(ctx, keys...); err != nil {
		return fmt.Errorf("memo clear: %w", err)
	}
	fmt.Fprintf(g.stdout, "deleted %d %s from %s\n", len(keys), what, s.Dir())
	return nil
}

// confirm asks question on out and reads one line from in: only "y" or
// "yes" (in any case) agree. The end of input is a no.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	if errors.Is(err, io.EOF) {
		fmt.Fprintln(out) // the prompt's line was never ended
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

type memoGCCmd struct {
	memoStoreFlags `embed:""`
}

func (memoGCCmd) Help() string {
	return `Moves the results log into the database (its sorted tables and value log),
compacts the sorted tables and rewrites the value-log files that are
mostly dead space, giving back the disk that deleted and replaced entries
took, then prints the store's size before and after. The store is locked
meanwhile.

A store with nothing deleted or replaced can come out a little larger: a
sorted table takes a few more bytes per entry than the log does, and in
exchange a run need not hold every key in memory, as it does for the log.`
}

func (c *memoGCCmd) Run(g *globals) (err error) {
	s, err := c.open(nil)
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	ctx := context.Background()
	before, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	if err := s.GC(ctx); err != nil {
		return err
	}
	after, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	b, a := before.DiskBytes(), after.DiskBytes()
	if a > b {
		// Nothing to free, and the results log folded: a sorted table
		// frames each entry in a few more bytes than the log does.
		fmt.Fprintf(g.stdout, "memo store %s: %s before, %s after (%s more: results moved from the log into the sorted tables)\n",
			s.Dir(), memoSize(b), memoSize(a), memoSize(a-b))
		return nil
	}
	fmt.Fprintf(g.stdout, "memo store %s: %s before, %s after (%s freed)\n",
		s.Dir(), memoSize(b), memoSize(a), memoSize(b-a))
	return nil
}

type memoStatsCmd struct {
	memoStoreFlags `embed:""`
}

func (memoStatsCmd) Help() string {
	return `Prints the number of entries, in all and per app, the size of their values,
how many entries are damaged (they read as misses), and the space the store
takes on disk: sorted tables (keys and small values), value log (large
values) and other: the results log (results written since the last fold
into the sorted tables, which 'starflow memo gc' does, and an open of a
store with a long log), Badger's memtables and manifest.`
}

func (c *memoStatsCmd) Run(g *globals) (err error) {
	s, err := c.open(nil)
	var none *noStoreError
	if errors.As(err, &none) {
		fmt.Fprintln(g.stderr, err)
		return nil
	}
	if err != nil {
		return err
	}
	defer closeStore(s, &err)
	st, err := s.Stats(context.Background())
	if err != nil {
		return err
	}
	return printStats(g.stdout, s.Dir(), st)
}

func printStats(w io.Writer, dir string, st memo.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store:\t%s\n", dir)
	fmt.Fprintf(tw, "entries:\t%d (%s of values)\n", st.Entries, memoSize(st.ValueBytes))
	fmt.Fprintf(tw, "damaged:\t%d\n", st.Damaged)
	fmt.Fprintf(tw, "on disk:\t%s (sorted tables %s, value log %s, other %s)\n",
		memoSize(st.DiskBytes()), memoSize(st.LSMBytes), memoSize(st.VlogBytes), memoSize(st.OtherBytes))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Apps) == 0 {
		return nil
	}
	fmt.Fprintln(w, "per app:")
	apps := make([]string, 0, len(st.Apps))
	nameWidth, countWidth := 0, 0
	for app, n := range st.Apps {
		apps = append(apps, app)
		nameWidth = max(nameWidth, len(orDash(app)))
		countWidth = max(countWidth, len(fmt.Sprint(n)))
	}
	slices.Sort(apps)
	for _, app := range apps {
		if _, err := fmt.Fprintf(w, "  %-*s  %*d\n", nameWidth, orDash(app), countWidth, st.Apps[app]); err != nil {
			return err
		}
	}
	return nil
}
