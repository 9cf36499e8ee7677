// Package monitoringtest holds what the tests of the monitoring database
// and of its readers (the dashboard, the script surface) share: one run
// with known outcomes, and reading a column back.
package monitoringtest

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/threadpool"
)

// RunKnownTasks runs five tasks on a real kernel (a thread pool labelled
// "pool", retries=1) whose events go to obs, and returns once the kernel
// is shut down: task 0 succeeds, task 1 fails once and succeeds on its
// retry, task 2 fails on both tries, task 3 depends on 2 (dep_fail), and
// task 4 depends on 0 and succeeds.
func RunKnownTasks(t testing.TB, obs dfk.Observer) {
	t.Helper()
	ctx := context.Background()
	pool, err := threadpool.New("pool", 2)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dfk.New(ctx, dfk.Config{Executors: []dfk.Executor{pool}, Retries: 1, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	var flaky atomic.Int32
	ok := func(context.Context, dfk.Env) (any, error) { return 1, nil }
	f0 := k.Submit(dfk.Spec{App: "good", Run: ok})
	k.Submit(dfk.Spec{App: "flaky", Run: func(context.Context, dfk.Env) (any, error) {
		if flaky.Add(1) == 1 {
			return nil, errors.New("first try fails")
		}
		return 2, nil
	}})
	f2 := k.Submit(dfk.Spec{App: "bad", Run: func(context.Context, dfk.Env) (any, error) {
		return nil, errors.New("always fails")
	}})
	k.Submit(dfk.Spec{App: "after_bad", Deps: []*dfk.Future{f2}, Run: ok})
	k.Submit(dfk.Spec{App: "after_good", Deps: []*dfk.Future{f0}, Run: ok})
	if err := k.WaitAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// Column returns the first column of every row q selects, NULL as "".
func Column(t testing.TB, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}
