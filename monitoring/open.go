package monitoring

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver: no cgo in the binary
)

// FileName is the database's name inside a run folder.
const FileName = "monitoring.db"

// dsn builds a modernc.org/sqlite data source name for path. busy_timeout
// lets a reader and the run's writer share the file without SQLITE_BUSY
// errors on every overlap.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if readOnly {
		q.Set("mode", "ro")
	} else {
		// WAL: readers (the dashboard, sqlite3) never block the writer, and
		// a crash mid-commit leaves the last committed batch intact.
		// synchronous=NORMAL skips the fsync per commit (WAL keeps the file
		// consistent; a power loss may drop the last commits, a crash of
		// starflow drops none).
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		// A batch (at most about 4,000 tasks, 1.5 MB of pages) fits in a
		// 4 MB cache without spilling mid-transaction; the default 2 MB
		// measured slower, 16 MB no faster. Statement journals stay in
		// memory for the same reason.
		q.Add("_pragma", "cache_size(-4096)")
		q.Add("_pragma", "temp_store(MEMORY)")
	}
	// SQLite reads "?" and "#" in a file: URI as the start of its query
	// and fragment, and "%" as an escape: the path is escaped.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// OpenReadOnly opens a monitoring database for reading and checks that
// this build understands it (see CheckVersion). The caller closes it.
func OpenReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("monitoring: open %s: %w", path, err)
	}
	if err := CheckVersion(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("monitoring: %s: %w", path, err)
	}
	return db, nil
}

// OpenWrite opens (creating if needed) a monitoring database for writing,
// with the schema and indexes in place. One connection:
// SQLite has one writer anyway, and pragmas then apply to every statement.
func OpenWrite(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("monitoring: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := checkWritable(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("monitoring: %s: %w", path, err)
	}
	if err := Create(ctx, db, true); err != nil {
		db.Close()
		return nil, fmt.Errorf("monitoring: %s: %w", path, err)
	}
	return db, nil
}

// checkWritable refuses a database that holds tables but is not one this
// build writes (another starflow version's, Parsl's own): adding this
// version's tables to it would leave a file that neither reads.
func checkWritable(ctx context.Context, db *sql.DB) error {
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
		return fmt.Errorf("read the schema: %w", err)
	}
	if tables == 0 {
		return nil
	}
	if err := CheckVersion(ctx, db); err != nil {
		return fmt.Errorf("%w; record this run in a new file", err)
	}
	return nil
}
