package interp

import (
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/exc"
)

// Starlark has no exceptions, but a builtin can call a function and look
// at the error it returns. So a try body becomes a nested def, run by
// _sf_try, which returns how it ended (an outcome: ok, error, or a
// return, break or continue the body signalled); the handlers, else and
// finally run after it, in the enclosing scope, so their own return,
// break and continue are the enclosing function's:
//
//	try:                      $w1 = {}                 # names the body binds
//	    x = f()               def try():
//	except E as e:                $w1["x"] = f()
//	    x = None              $r1 = _sf_try(try)
//	else:                     if "x" in $w1: x = $w1["x"]
//	    use(x)                if $r1.kind == "error":
//	                              if _sf_match($r1, E):
//	                                  e = $r1.exc
//	                                  x = None
//	                              else:
//	                                  _sf_reraise($r1)
//	                          else:
//	                              use(x)
//
// With a finally clause, the try/except/else part is the body and the
// finally block runs after it, before the outcome is acted on (an error
// raised again, a signalled return made). A with statement is a
// try/finally that cleans up the value it entered.

// A tryStmt is a try statement decoded from its marks.
type tryStmt struct {
	pos      syntax.Position
	label    string // the body's name in backtraces: "try" or "with"
	body     []syntax.Stmt
	handlers []exceptClause
	orelse   []syntax.Stmt // nil: no else clause
	final    []syntax.Stmt // nil: no finally clause
	finalPos syntax.Position
}

type exceptClause struct {
	pos     syntax.Position
	classes syntax.Expr   // nil: a bare except
	name    *syntax.Ident // nil: no "as"
	body    []syntax.Stmt
}

// decodeTry reads a marked try statement: an if whose elif chain holds
// its clauses, checked in Python's order.
func decodeTry(s *syntax.IfStmt) (*tryStmt, error) {
	t := &tryStmt{pos: s.If, label: "try", body: s.True}
	if stmtMark(s.Cond) == markWithTry {
		t.label = "with"
	}
	errAt := func(p syntax.Position, msg string) error { return syntax.Error{Pos: p, Msg: msg} }
	for prev := s; prev.False != nil; {
		var c *syntax.IfStmt
		if len(prev.False) == 1 {
			c, _ = prev.False[0].(*syntax.IfStmt)
		}
		if c == nil || c.If != prev.ElsePos {
			return nil, errAt(prev.ElsePos, "else: cannot tell which statement it belongs to; "+
				"check the indentation of the try before it")
		}
		switch mark := stmtMark(c.Cond); mark {
		case markExcept, markExceptAs:
			if t.orelse != nil || t.final != nil {
				return nil, errAt(c.If, "except after else or finally")
			}
			if n := len(t.handlers); n > 0 && t.handlers[n-1].classes == nil {
				return nil, errAt(t.handlers[n-1].pos, "a bare except: must be the last except clause")
			}
			h := exceptClause{pos: c.If, body: c.True}
			var args []syntax.Expr
			if call, ok := c.Cond.(*syntax.CallExpr); ok {
				args = call.Args
			}
			switch {
			case mark == markExceptAs && len(args) == 2:
				h.classes = args[0]
				if h.name, _ = args[1].(*syntax.Ident); h.name == nil {
					return nil, errAt(c.If, "except ... as: want a name")
				}
			case mark == markExcept && len(args) <= 1:
				if len(args) == 1 {
					h.classes = args[0]
				}
			default:
				return nil, errAt(c.If, "except A, B: is Python 2; write except (A, B):")
			}
			t.handlers = append(t.handlers, h)
		case markElse:
			if t.final != nil {
				return nil, errAt(c.If, "else after finally")
			}
			if len(t.handlers) == 0 {
				return nil, errAt(c.If, "else in a try needs an except clause before it")
			}
			t.orelse = c.True
		case markFinally:
			t.final, t.finalPos = c.True, c.If
		default:
			return nil, errAt(c.If, "elif: cannot tell which statement it belongs to; "+
				"check the indentation of the try before it")
		}
		prev = c
	}
	if len(t.handlers) == 0 && t.final == nil {
		return nil, errAt(t.pos, "try needs an except or a finally clause")
	}
	return t, nil
}

// try lowers a try statement in scope sc.
func (lw *stmtLowerer) try(t *tryStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	if err := lw.needTopLevel(t.pos, t.label, sc); err != nil {
		return nil, err
	}
	if t.final != nil {
		return lw.tryFinally(t, sc)
	}
	return lw.tryExcept(t, sc)
}

// A bodyCall is a lowered try body and the call that runs it.
type bodyCall struct {
	stmts   []syntax.Stmt // make the dict, def the body, call it, copy back
	outcome string        // the variable holding how it ended
	sig     *signals
}

// callBody lowers a try body into a def named label, called at once. The
// names it binds that the enclosing scope does not redirect already are
// written to a fresh dict and copied back after the call.
func (lw *stmtLowerer) callBody(sc *stmtScope, pos syntax.Position, label string, names []string,
	lower func(*stmtScope) ([]syntax.Stmt, error)) (*bodyCall, error) {
	var fresh []string
	for _, n := range names {
		if _, ok := sc.redir[n]; !ok {
			fresh = append(fresh, n)
		}
	}
	var w string
	if len(fresh) > 0 {
		w = lw.fresh("w")
	}
	bsc := sc.tryBody(fresh, w)
	body, err := lower(bsc)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		body = []syntax.Stmt{&syntax.BranchStmt{Token: syntax.PASS, TokenPos: pos}}
	}
	p := at(pos)
	r := lw.fresh("r")
	var out []syntax.Stmt
	if w != "" {
		out = append(out, p.assign(p.ident(w), &syntax.DictExpr{Lbrace: pos, Rbrace: pos}))
	}
	out = append(out,
		&syntax.DefStmt{Def: pos, Name: p.ident(label), Lparen: pos, Rparen: pos, Body: body},
		p.assign(p.ident(r), p.call(exc.Try, p.ident(label))))
	for _, n := range fresh {
		back := p.assign(p.ident(n), p.index(p.ident(w), p.str(n)))
		out = append(out, p.ifStmt(p.binary(syntax.IN, p.str(n), p.ident(w)), []syntax.Stmt{back}, nil))
	}
	return &bodyCall{stmts: out, outcome: r, sig: bsc.sig}, nil
}

// tryExcept lowers a try with except clauses and no finally.
func (lw *stmtLowerer) tryExcept(t *tryStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	bc, err := lw.callBody(sc, t.pos, t.label, boundNames(t.body), func(bsc *stmtScope) ([]syntax.Stmt, error) {
		return lw.block(t.body, bsc)
	})
	if err != nil {
		return nil, err
	}
	r := bc.outcome
	p := at(t.pos)

	// The clauses, last first: each an if whose else is the next one;
	// the last one's else raises the error again, unless it is bare.
	hs := t.handlers
	var chain []syntax.Stmt
	if last := hs[len(hs)-1]; last.classes == nil {
		if chain, err = lw.block(last.body, sc.handling(r)); err != nil {
			return nil, err
		}
		hs = hs[:len(hs)-1]
	} else {
		chain = []syntax.Stmt{p.exprStmt(p.call(exc.Reraise, p.ident(r)))}
	}
	for i := len(hs) - 1; i >= 0; i-- {
		h := hs[i]
		hp := at(h.pos)
		var body []syntax.Stmt
		if h.name != nil {
			if body, err = lw.stmt(hp.assign(h.name, hp.dot(hp.ident(r), "exc")), sc); err != nil {
				return nil, err
			}
		}
		hb, err := lw.block(h.body, sc.handling(r))
		if err != nil {
			return nil, err
		}
		cond := hp.call(exc.Match, hp.ident(r), sc.expr(h.classes))
		chain = []syntax.Stmt{hp.ifStmt(cond, append(body, hb...), chain)}
	}

	var orelse []syntax.Stmt
	if t.orelse != nil {
		if orelse, err = lw.block(t.orelse, sc); err != nil {
			return nil, err
		}
	}
	rest, err := lw.dispatch(r, bc.sig, sc, p, orelse)
	if err != nil {
		return nil, err
	}
	return append(bc.stmts, p.ifStmt(kindIs(p, r, "error"), chain, rest)), nil
}

// tryFinally lowers a try with a finally clause: the rest of the try is
// the body; the finally block runs after it whatever happened.
func (lw *stmtLowerer) tryFinally(t *tryStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	inner := *t
	inner.final = nil
	names := boundNames(t.body)
	for _, h := range t.handlers {
		if h.name != nil {
			names = append(names, h.name.Name)
		}
		names = append(names, boundNames(h.body)...)
	}
	names = append(names, boundNames(t.orelse)...)
	bc, err := lw.callBody(sc, t.pos, t.label, dedup(names), func(bsc *stmtScope) ([]syntax.Stmt, error) {
		if len(t.handlers) > 0 {
			return lw.tryExcept(&inner, bsc)
		}
		return lw.block(t.body, bsc)
	})
	if err != nil {
		return nil, err
	}
	fin, err := lw.block(t.final, sc)
	if err != nil {
		return nil, err
	}
	fp := at(t.finalPos)
	out := append(bc.stmts, fin...)
	out = append(out, fp.exprStmt(fp.call(exc.Reraise, fp.ident(bc.outcome))))
	rest, err := lw.dispatch(bc.outcome, bc.sig, sc, at(t.pos), nil)
	return append(out, rest...), err
}

// dispatch acts on the ways out a body signalled (return, break,
// continue), in scope sc, and otherwise runs last.
func (lw *stmtLowerer) dispatch(r string, sig *signals, sc *stmtScope, p at, last []syntax.Stmt) ([]syntax.Stmt, error) {
	out := last
	pos := syntax.Position(p)
	add := func(kind string, s syntax.Stmt) error {
		ss, err := lw.stmt(s, sc)
		out = []syntax.Stmt{p.ifStmt(kindIs(p, r, kind), ss, out)}
		return err
	}
	var err error
	if sig.cont {
		err = add("continue", &syntax.BranchStmt{Token: syntax.CONTINUE, TokenPos: pos})
	}
	if sig.brk && err == nil {
		err = add("break", &syntax.BranchStmt{Token: syntax.BREAK, TokenPos: pos})
	}
	if sig.ret && err == nil {
		err = add("return", &syntax.ReturnStmt{Return: pos, Result: p.dot(p.ident(r), "value")})
	}
	return out, err
}

// kindIs is `r.kind == kind`.
func kindIs(p at, r, kind string) syntax.Expr {
	return p.binary(syntax.EQL, p.dot(p.ident(r), "kind"), p.str(kind))
}

func dedup(names []string) []string {
	seen := map[string]bool{}
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// A withItem is one "expr [as target]" of a with statement.
type withItem struct {
	expr, target syntax.Expr
}

// withItems reads the items of a marked with statement: the loop's
// operands, each "as" marker joining an item and its target.
func withItems(x syntax.Expr) ([]withItem, error) {
	list := []syntax.Expr{x}
	switch x := x.(type) {
	case *syntax.TupleExpr:
		list = x.List
	case *syntax.ParenExpr:
		if t, ok := x.X.(*syntax.TupleExpr); ok {
			list = t.List
		}
	}
	var items []withItem
	for i := 0; i < len(list); i++ {
		if stmtMark(list[i]) != markAs {
			items = append(items, withItem{expr: list[i]})
			continue
		}
		if len(items) == 0 || items[len(items)-1].target != nil || i+1 == len(list) {
			start, _ := list[i].Span()
			return nil, syntax.Error{Pos: start, Msg: "with: want with expression as name"}
		}
		items[len(items)-1].target = list[i+1]
		i++
	}
	return items, nil
}

// with lowers a with statement: each item is entered (its value kept in a
// hidden name, and bound to its target), then the rest runs in a
// try/finally that cleans it up.
//
//	with open(p) as f:    $c1 = _sf_enter(open(p))
//	    body              f = $c1
//	                      try:
//	                          body
//	                      finally:
//	                          _sf_exit($c1)
func (lw *stmtLowerer) with(s *syntax.ForStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	items, err := withItems(s.X)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := checkWithItem(it.expr); err != nil {
			return nil, err
		}
	}
	w := at(s.For)
	body := s.Body
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		start, _ := it.expr.Span()
		p := at(start)
		c := lw.fresh("c")
		enter := []syntax.Stmt{p.assign(p.ident(c), p.call(exc.Enter, it.expr))}
		if it.target != nil {
			enter = append(enter, p.assign(it.target, p.ident(c)))
		}
		exit := []syntax.Stmt{w.exprStmt(w.call(exc.Exit, w.ident(c)))}
		fin := w.ifStmt(w.ident(markFinally), exit, nil)
		try := w.ifStmt(w.ident(markWithTry), body, []syntax.Stmt{fin})
		body = append(enter, try)
	}
	return lw.block(body, sc)
}

// checkWithItem rejects, before anything runs, a with statement on a call
// that cannot make what starflow can clean up at the end of the block: a
// file from open(), a kernel from parsl.load(). Other values (a file in a
// variable) are checked by _sf_enter when the block starts.
func checkWithItem(e syntax.Expr) error {
	c, ok := e.(*syntax.CallExpr)
	if !ok {
		return nil
	}
	switch fn := c.Fn.(type) {
	case *syntax.Ident:
		if fn.Name == "open" {
			return nil
		}
	case *syntax.DotExpr:
		if fn.Name.Name == LoadAttr || fn.Name.Name == "load" {
			return nil
		}
	}
	start, _ := e.Span()
	return syntax.Error{Pos: start, Msg: "with " + describeExpr(e) + ": only open(...) and parsl.load(...) " +
		"can be used in a with statement; call it before the block and clean up after it yourself"}
}

// describeExpr quotes an expression the way the user wrote it, as far as
// names and calls go.
func describeExpr(e syntax.Expr) string {
	switch x := e.(type) {
	case *syntax.Ident:
		return x.Name
	case *syntax.DotExpr:
		name := x.Name.Name
		if name == LoadAttr {
			name = "load"
		}
		return describeExpr(x.X) + "." + name
	case *syntax.CallExpr:
		return describeExpr(x.Fn) + "(...)"
	case *syntax.ParenExpr:
		return "(" + describeExpr(x.X) + ")"
	}
	return "this expression"
}
