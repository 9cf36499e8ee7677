package monitoring

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A path holding characters a file: URI gives meaning to ("?" starts its
// query, "#" its fragment, "%" an escape) names the file it says, and
// nothing else is created.
func TestOpenPathWithURICharacters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "runs #1?mode=ro&x=%41")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	db, err := OpenWrite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO workflow (run_id, time_began, host, user, rundir) VALUES ('r', 'now', 'h', 'u', 'd')`); err != nil {
		t.Fatalf("write through the escaped path: %v", err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("files made next to the run folder: %v", entries)
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var n int
	if err := ro.QueryRowContext(ctx, "SELECT count(*) FROM workflow").Scan(&n); err != nil || n != 1 {
		t.Errorf("read back: %d rows, %v", n, err)
	}
}

// A database another starflow version wrote is not written to: its
// tables would not be the ones this build expects.
func TestOpenWriteRefusesAnotherVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := OpenWrite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = OpenWrite(ctx, path)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Got != 1 {
		t.Fatalf("OpenWrite of a version 1 database: %v, want a VersionError", err)
	}
}
