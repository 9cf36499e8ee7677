package interp

// exprPass lowers Python expressions Starlark lacks (issue 3).
var exprPass = pass{}
