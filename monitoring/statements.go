package monitoring

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// chunkRows is how many rows one INSERT carries. Multi-row statements
// cost about half as much per row as one statement per row (measured
// with modernc.org/sqlite on this project's CI machine); 64 rows stay far
// below SQLite's 32766 bound on parameters for every table here.
const chunkRows = 64

// insert is one multi-row INSERT, prepared once per row count on the
// driver's connection. It bypasses database/sql, whose conversion of the
// arguments allocated a fresh []driver.NamedValue per statement: a fifth
// of everything a run with monitoring allocated.
type insert struct {
	verb  string // INSERT OR REPLACE unless set otherwise
	table string
	cols  []string
	row   string // (?,?,...,'run id')
	stmts map[int]driver.StmtExecContext
	named []driver.NamedValue // reused for every statement
}

// newInsert builds the statement for table with cols bound per row, and
// run_id, which is the same on every row, written into the statement.
// Rows replace those with the same key: task and try rows are written
// again, whole, as a long task changes.
func newInsert(table string, cols []string, runID string) *insert {
	return &insert{
		verb:  "INSERT OR REPLACE",
		table: table,
		cols:  cols,
		row:   "(" + strings.Repeat("?,", len(cols)) + quote(runID) + ")",
		stmts: map[int]driver.StmtExecContext{},
	}
}

// write inserts the rows in args (len(cols) values a row) through the
// driver connection dc, inside the transaction the caller began on it.
// Values are what driver.Value allows, except that int is taken for
// int64.
func (in *insert) write(ctx context.Context, dc driver.Conn, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/len(in.cols), chunkRows)
		st, err := in.stmt(ctx, dc, n)
		if err != nil {
			return err
		}
		in.named = in.named[:0]
		for i, v := range args[:n*len(in.cols)] {
			if x, ok := v.(int); ok {
				v = int64(x)
			}
			in.named = append(in.named, driver.NamedValue{Ordinal: i + 1, Value: v})
		}
		if _, err := st.ExecContext(ctx, in.named); err != nil {
			return fmt.Errorf("insert into %s: %w", in.table, err)
		}
		args = args[n*len(in.cols):]
	}
	clear(in.named) // drop the references to this batch's values
	return nil
}

func (in *insert) stmt(ctx context.Context, dc driver.Conn, n int) (driver.StmtExecContext, error) {
	if st, ok := in.stmts[n]; ok {
		return st, nil
	}
	q := fmt.Sprintf("%s INTO %s (%s, run_id) VALUES %s", in.verb, in.table, strings.Join(in.cols, ", "),
		strings.TrimSuffix(strings.Repeat(in.row+",", n), ","))
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("prepare the insert into %s: the driver cannot prepare with a context", in.table)
	}
	st, err := prep.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare the insert into %s: %w", in.table, err)
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("prepare the insert into %s: the driver's statement cannot execute with a context", in.table)
	}
	in.stmts[n] = ex
	return ex, nil
}

// close closes the statements on conn, the connection they were prepared on.
func (in *insert) close(conn *sql.Conn) {
	_ = conn.Raw(func(any) error {
		for _, st := range in.stmts {
			st.(driver.Stmt).Close()
		}
		return nil
	})
}

// quote is an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
