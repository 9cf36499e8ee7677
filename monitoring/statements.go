package monitoring

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// chunkRows is how many rows one INSERT carries. Multi-row statements
// halve SQLite's per-row cost against one statement per row (measured
// with modernc.org/sqlite on this project's CI machine); 64 rows stay far
// below SQLite's 32766 bound on parameters for every table here.
const chunkRows = 64

// insert is one multi-row INSERT, prepared once per row count.
type insert struct {
	head  string // INSERT INTO t (cols) VALUES
	row   string // (?,?,...,'run id')
	tail  string // ON CONFLICT ... or ""
	cols  int    // parameters per row
	stmts map[int]*sql.Stmt
}

// newInsert builds the statement for table with cols bound per row, and
// run_id, which is the same on every row, written into the statement.
func newInsert(table string, cols []string, runID, tail string) *insert {
	row := "(" + strings.Repeat("?,", len(cols)) + quote(runID) + ")"
	return &insert{
		head:  fmt.Sprintf("INSERT INTO %s (%s, run_id) VALUES ", table, strings.Join(cols, ", ")),
		row:   row,
		tail:  tail,
		cols:  len(cols),
		stmts: map[int]*sql.Stmt{},
	}
}

// upsert is the ON CONFLICT clause that overwrites cols of an existing row
// with the new values: the writer always holds a row's whole state.
func upsert(key string, cols []string) string {
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = excluded." + c
	}
	return " ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// write inserts the rows in args (cols values a row) on conn, inside the
// transaction the caller began there.
func (in *insert) write(ctx context.Context, conn *sql.Conn, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/in.cols, chunkRows)
		st, err := in.stmt(ctx, conn, n)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, args[:n*in.cols]...); err != nil {
			return fmt.Errorf("%s: %w", strings.TrimSpace(in.head), err)
		}
		args = args[n*in.cols:]
	}
	return nil
}

func (in *insert) stmt(ctx context.Context, conn *sql.Conn, n int) (*sql.Stmt, error) {
	if st, ok := in.stmts[n]; ok {
		return st, nil
	}
	q := in.head + strings.TrimSuffix(strings.Repeat(in.row+",", n), ",") + in.tail
	st, err := conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", strings.TrimSpace(in.head), err)
	}
	in.stmts[n] = st
	return st, nil
}

func (in *insert) close() {
	for _, st := range in.stmts {
		st.Close()
	}
}

// quote is an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
