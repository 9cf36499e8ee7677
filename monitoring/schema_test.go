package monitoring

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func TestCreateThenCheckVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := OpenWrite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(ctx, db, true); err != nil {
		t.Fatalf("second Create on the same database: %v", err)
	}
	if err := CheckVersion(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	// The Parsl tutorial's query must name only columns that exist.
	rows, err := ro.QueryContext(ctx, tutorialQuery)
	if err != nil {
		t.Fatalf("tutorial query: %v", err)
	}
	rows.Close()
}

func TestCheckVersionTellsDatabasesApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		pragma string
		want   func(error) bool
	}{
		{"parsl", "PRAGMA user_version = 0", func(err error) bool { return errors.Is(err, ErrNotStarflow) }},
		{"older", fmt.Sprintf("PRAGMA user_version = 0; PRAGMA application_id = %d", ApplicationID), isVersion(0)},
		{"newer", fmt.Sprintf("PRAGMA user_version = 99; PRAGMA application_id = %d", ApplicationID), isVersion(99)},
	} {
		path := filepath.Join(t.TempDir(), tc.name+".db")
		db, err := OpenWrite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "PRAGMA application_id = 0; "+tc.pragma); err != nil {
			t.Fatal(err)
		}
		err = CheckVersion(ctx, db)
		db.Close()
		if !tc.want(err) {
			t.Errorf("%s: CheckVersion = %v", tc.name, err)
		}
		if _, err := OpenReadOnly(ctx, path); err == nil {
			t.Errorf("%s: OpenReadOnly accepted the database", tc.name)
		}
	}
}

func isVersion(v int) func(error) bool {
	return func(err error) bool {
		var ve *VersionError
		return errors.As(err, &ve) && ve.Got == v
	}
}

const tutorialQuery = `SELECT task_id, task_func_name, task_status_name, task_time_submitted, task_time_returned FROM task`
