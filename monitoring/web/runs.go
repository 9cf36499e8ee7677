package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/starflow-hpc/starflow/monitoring"
)

// runDirName matches the folders starflow makes under runinfo/ (000, 001,
// ...). Anything else there (a user's notes, a half-deleted run renamed
// away) is not a run, and matching digits only also keeps request paths
// from naming folders outside runinfo.
var runDirName = regexp.MustCompile(`^[0-9]{1,9}$`)

// RunIDs returns the names of the run folders under root (000, 001, ...),
// newest first.
func RunIDs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && runDirName.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return y - x
	})
	return ids, nil
}

// problem is why a run cannot be shown: said to the user as is, on the
// page, with the HTTP status that fits. It is never an internal error.
type problem struct {
	status int
	title  string
	detail string
}

func (p *problem) Error() string { return p.title + ": " + p.detail }

// runDBs keeps one read-only connection pool per run database, opened on
// first use: opening checks the schema, and a warm pool keeps SQLite's page
// cache between requests.
type runDBs struct {
	root string
	mu   sync.Mutex
	dbs  map[string]openDB
}

// openDB is a pool and the file it opened: a run folder deleted and made
// again by a new run holds another file under the same name.
type openDB struct {
	db   *sql.DB
	file os.FileInfo
}

func (r *runDBs) path(id string) string {
	return filepath.Join(r.root, id, monitoring.FileName)
}

// open returns the run's database, or a *problem saying why there is none
// that the dashboard can read. Failures are not cached: a run that starts
// writing its database later is shown once it has one.
func (r *runDBs) open(ctx context.Context, id string) (*sql.DB, error) {
	if !runDirName.MatchString(id) {
		return nil, &problem{404, "No such run", fmt.Sprintf("%q is not a run: runs are the numbered folders in %s.", id, r.root)}
	}
	dir := filepath.Join(r.root, id)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &problem{404, "No such run", fmt.Sprintf("There is no run %s in %s.", id, r.root)}
	}
	path := r.path(id)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &problem{404, "No monitoring database", fmt.Sprintf(
			"Run %s has no %s: it ran without monitoring. Turn it on with Config(monitoring=MonitoringHub()) and run the script again.", id, path)}
	} else if err != nil {
		return nil, &problem{422, "Cannot read the monitoring database", err.Error()}
	}
	r.mu.Lock()
	cur, ok := r.dbs[id]
	r.mu.Unlock()
	if ok && os.SameFile(cur.file, fi) {
		return cur.db, nil
	}
	db, err := openReadOnly(ctx, path)
	if err != nil {
		return nil, dbProblem(path, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.dbs[id]; ok {
		if os.SameFile(cur.file, fi) { // another request opened it meanwhile
			db.Close()
			return cur.db, nil
		}
		// Close waits for queries in flight: not while holding the lock.
		go cur.db.Close()
	}
	r.dbs[id] = openDB{db, fi}
	return db, nil
}

// openReadOnly opens a run database for the dashboard and checks that it
// is one this starflow reads (monitoring.CheckVersion) with the tables the
// pages query.
//
// Not monitoring.OpenReadOnly: the dashboard's connections memory-map the
// file. The run page reads every task and try; through SQLite's small
// per-connection page cache that is a pread per page, and mapping the file
// halves the time. The recorder never shrinks the file (no VACUUM, no
// auto_vacuum), which is what makes a mapping unsafe.
func openReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "mmap_size(1073741824)")
	// The path is escaped: SQLite reads "?" and "#" in a file: URI as the
	// start of its query and fragment.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// Each page runs its sections' queries at once; more connections than
	// that would only wait on each other. Idle ones go after a while: a
	// dashboard may have opened a hundred runs' databases.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(2 * time.Minute)
	if err := monitoring.CheckVersion(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := checkTables(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dbProblem turns an open or schema error into words for the user.
func dbProblem(path string, err error) *problem {
	var ve *monitoring.VersionError
	switch {
	case errors.As(err, &ve):
		verb := "Use that starflow's 'starflow visualize', or run the script again with this one."
		return &problem{422, "Monitoring database from another starflow version", fmt.Sprintf("%s: %s. %s", path, ve.Error(), verb)}
	case errors.Is(err, monitoring.ErrNotStarflow):
		return &problem{422, "Not a starflow monitoring database", fmt.Sprintf(
			"%s was not written by starflow (Parsl's own monitoring.db, or another SQLite file): its tables cannot be trusted to mean what starflow's do.", path)}
	}
	var me *missingTablesError
	if errors.As(err, &me) {
		return &problem{422, "Incomplete monitoring database", fmt.Sprintf("%s has no table %s: it is damaged or was not written by this starflow.", path, strings.Join(me.tables, ", "))}
	}
	return &problem{422, "Cannot read the monitoring database", fmt.Sprintf("%s: %v", path, err)}
}

// tablesRead are the tables the dashboard queries.
var tablesRead = []string{"workflow", "starflow_run", "task", "try", "status", "resource", "block"}

type missingTablesError struct{ tables []string }

func (e *missingTablesError) Error() string {
	return "missing tables: " + strings.Join(e.tables, ", ")
}

// checkTables guards against a file that has starflow's version pragmas
// but lost tables (a copy cut short, a hand-made file), which would
// otherwise fail later as "no such table" in the middle of a page.
func checkTables(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	var missing []string
	for _, t := range tablesRead {
		if !have[t] {
			missing = append(missing, t)
		}
	}
	if missing != nil {
		return &missingTablesError{missing}
	}
	return nil
}

func (r *runDBs) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for id, o := range r.dbs {
		errs = append(errs, o.db.Close())
		delete(r.dbs, id)
	}
	return errors.Join(errs...)
}
