package interp

// stmtPass lowers Python statements Starlark lacks (issue 3).
var stmtPass = pass{}
