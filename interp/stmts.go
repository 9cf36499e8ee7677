package interp

// stmtPass lowers the Python statements Starlark lacks: try/except/else/
// finally, raise, assert, with (for open() and parsl.load()) and del. It
// rejects, before anything runs, the ones it cannot lower (class, yield,
// async/await, global/nonlocal; exprPass rejects the walrus), naming the
// construct, its line and column, and what to write instead. The text
// step is in stmt_scan.go, the tree step in stmt_tree.go and stmt_try.go;
// the runtime helpers the lowered code calls are stdlib/exc's.
var stmtPass = pass{quick: mayHaveStmts, text: stmtText, tree: stmtTree}
