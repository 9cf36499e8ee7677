package interp

import (
	"fmt"
	"strings"

	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/exc"
)

// The tree step of stmtPass: the statements the text step marked are
// rebuilt as Starlark, top-down, each in the scope it appears in. See
// stmt_try.go for try and with, stmt_names.go for how a lowered body
// assigns its enclosing scope's names.

func stmtTree(l *lowering, f *syntax.File) error {
	if !hasStmtMarks(f) {
		return nil
	}
	lw := &stmtLowerer{opts: l.opts}
	stmts, err := lw.block(f.Stmts, &stmtScope{module: true})
	if err != nil {
		return err
	}
	f.Stmts = stmts
	return nil
}

// hasStmtMarks reports whether the text step marked anything in f.
func hasStmtMarks(f *syntax.File) bool {
	found := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok && strings.HasPrefix(id.Name, markPrefix) {
			found = true
		}
		return !found
	})
	return found
}

// stmtLowerer rebuilds one file's marked statements.
type stmtLowerer struct {
	opts *syntax.FileOptions
	n    int // for fresh hidden names
}

// fresh returns a hidden name: "$" cannot begin a name the user wrote,
// so it cannot clash with theirs.
func (lw *stmtLowerer) fresh(kind string) string {
	lw.n++
	return fmt.Sprintf("$%s%d", kind, lw.n)
}

// A stmtScope is where a statement is: which function, which loops, and
// whether it is in a lowered try body, from which return, break and
// continue must be signalled to the code that called the body.
type stmtScope struct {
	module bool      // at module level (not in any def)
	fn     bool      // in a def of the user's: return is allowed
	body   bool      // in a lowered try body (a nested def)
	loops  int       // loops around the statement within its def
	outer  bool      // body only: a loop encloses the try statement
	redir  redirects // names living in an enclosing scope's dict
	exc    string    // outcome of the innermost except clause, for a bare raise
	sig    *signals  // body only: what it signalled
}

// signals records which ways out of a body it used, so that the code
// after the call dispatches only on those.
type signals struct{ ret, brk, cont bool }

func (sc *stmtScope) inLoop() *stmtScope {
	c := *sc
	c.loops++
	return &c
}

// handling is the scope of an except clause's body.
func (sc *stmtScope) handling(outcome string) *stmtScope {
	c := *sc
	c.exc = outcome
	return &c
}

// tryBody is the scope of a try body lowered into a def: it redirects
// the names the body binds that are new (to dict w) as well as the
// enclosing scope's.
func (sc *stmtScope) tryBody(names []string, w string) *stmtScope {
	r := make(redirects, len(sc.redir)+len(names))
	for k, v := range sc.redir {
		r[k] = v
	}
	for _, n := range names {
		r[n] = w
	}
	return &stmtScope{
		fn:    sc.fn,
		body:  true,
		outer: sc.loops > 0 || sc.body && sc.outer,
		redir: r,
		exc:   sc.exc,
		sig:   &signals{},
	}
}

// function is the scope of the user's own nested def or its body: its
// parameters and assignments are its own, the rest it reads from outside.
func (sc *stmtScope) function(locals []string) *stmtScope {
	return &stmtScope{fn: true, redir: sc.redir.without(locals), exc: sc.exc}
}

func (sc *stmtScope) expr(e syntax.Expr) syntax.Expr { return sc.redir.expr(e) }

// block lowers a statement list in scope sc.
func (lw *stmtLowerer) block(stmts []syntax.Stmt, sc *stmtScope) ([]syntax.Stmt, error) {
	if len(stmts) == 0 {
		return stmts, nil // an if's missing else stays nil: Span relies on it
	}
	out := make([]syntax.Stmt, 0, len(stmts))
	for _, s := range stmts {
		ss, err := lw.stmt(s, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, ss...)
	}
	return out, nil
}

// stmt lowers one statement: a marked one is rebuilt; any other has its
// reads and writes of redirected names rewritten, and its blocks lowered.
func (lw *stmtLowerer) stmt(s syntax.Stmt, sc *stmtScope) ([]syntax.Stmt, error) {
	var err error
	switch s := s.(type) {
	case *syntax.IfStmt:
		switch stmtMark(s.Cond) {
		case markTry, markWithTry:
			t, err := decodeTry(s)
			if err != nil {
				return nil, err
			}
			return lw.try(t, sc)
		case "":
		default:
			return nil, syntax.Error{Pos: s.If, Msg: "except, else or finally without a try before it"}
		}
		s.Cond = sc.expr(s.Cond)
		if s.True, err = lw.block(s.True, sc); err == nil {
			s.False, err = lw.block(s.False, sc)
		}
	case *syntax.ForStmt:
		if stmtMark(s.Vars) == markWith {
			return lw.with(s, sc)
		}
		s.X = sc.expr(s.X)
		s.Vars = sc.redir.target(s.Vars)
		s.Body, err = lw.block(s.Body, sc.inLoop())
	case *syntax.WhileStmt:
		s.Cond = sc.expr(s.Cond)
		s.Body, err = lw.block(s.Body, sc.inLoop())
	case *syntax.DefStmt:
		return lw.def(s, sc)
	case *syntax.AssignStmt:
		return lw.assign(s, sc)
	case *syntax.ExprStmt:
		if stmtMark(s.X) == markReraise {
			return lw.reraise(s, sc)
		}
		s.X = sc.expr(s.X)
	case *syntax.ReturnStmt:
		return lw.ret(s, sc)
	case *syntax.BranchStmt:
		return lw.branch(s, sc)
	}
	if err != nil {
		return nil, err
	}
	return []syntax.Stmt{s}, nil
}

// def lowers the user's def: its defaults are read here, its body in a
// scope of its own. Defined in a try body, its name is written through.
func (lw *stmtLowerer) def(s *syntax.DefStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	sc.redir.defaults(s.Params)
	locals := append(boundParams(s.Params), boundNames(s.Body)...)
	body, err := lw.block(s.Body, sc.function(locals))
	if err != nil {
		return nil, err
	}
	s.Body = body
	out := []syntax.Stmt{s}
	if w, ok := sc.redir[s.Name.Name]; ok {
		p := at(s.Def)
		out = append(out, p.assign(p.index(p.ident(w), p.str(s.Name.Name)), p.ident(s.Name.Name)))
	}
	return out, nil
}

// assign lowers an assignment, or the raise, assert or del it marks.
func (lw *stmtLowerer) assign(s *syntax.AssignStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	switch stmtMark(s.LHS) {
	case markRaise:
		return lw.raise(s, sc)
	case markAssert:
		return lw.assert(s, sc)
	case markDel:
		return lw.del(s, sc)
	}
	s.RHS = sc.expr(s.RHS)
	if id, ok := s.LHS.(*syntax.Ident); ok && s.Op != syntax.EQ {
		if w, ok := sc.redir[id.Name]; ok {
			// x += y: the dict entry starts as x's value, then is
			// updated in place, as x would be (a list is extended).
			p := at(id.NamePos)
			entry := func() syntax.Expr { return p.index(p.ident(w), p.str(id.Name)) }
			return []syntax.Stmt{
				p.assign(entry(), redirectedRead(id, w)),
				&syntax.AssignStmt{OpPos: s.OpPos, Op: s.Op, LHS: entry(), RHS: s.RHS},
			}, nil
		}
	}
	s.LHS = sc.redir.target(s.LHS)
	return []syntax.Stmt{s}, nil
}

// ret lowers a return: in a try body it returns ("return", value) to the
// code that called the body, which returns the value itself.
func (lw *stmtLowerer) ret(s *syntax.ReturnStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	s.Result = sc.expr(s.Result)
	if !sc.body {
		return []syntax.Stmt{s}, nil
	}
	if !sc.fn {
		return nil, syntax.Error{Pos: s.Return, Msg: "return statement not within a function"}
	}
	sc.sig.ret = true
	p := at(s.Return)
	value := s.Result
	if value == nil {
		value = p.ident("None")
	}
	s.Result = &syntax.TupleExpr{Lparen: s.Return, List: []syntax.Expr{p.str("return"), value}, Rparen: s.Return}
	return []syntax.Stmt{s}, nil
}

// branch lowers break and continue: in a try body, for a loop outside
// it, they return "break" or "continue" to the code that called the body.
func (lw *stmtLowerer) branch(s *syntax.BranchStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	if s.Token == syntax.PASS || sc.loops > 0 || !sc.body {
		return []syntax.Stmt{s}, nil
	}
	if !sc.outer {
		return nil, syntax.Error{Pos: s.TokenPos, Msg: s.Token.String() + " not in a loop"}
	}
	if s.Token == syntax.BREAK {
		sc.sig.brk = true
	} else {
		sc.sig.cont = true
	}
	p := at(s.TokenPos)
	return []syntax.Stmt{&syntax.ReturnStmt{Return: s.TokenPos, Result: p.str(s.Token.String())}}, nil
}

// raise lowers "raise E" and "raise E from C" to a call that fails with E.
func (lw *stmtLowerer) raise(s *syntax.AssignStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	p := at(s.LHS.(*syntax.Ident).NamePos)
	args := []syntax.Expr{s.RHS}
	if t, ok := s.RHS.(*syntax.TupleExpr); ok && !t.Lparen.IsValid() {
		if len(t.List) != 3 || stmtMark(t.List[1]) != markFrom {
			return nil, syntax.Error{Pos: syntax.Position(p), Msg: "raise E, message is Python 2; write raise E(message)"}
		}
		args = []syntax.Expr{t.List[0], t.List[2]}
	}
	return lw.stmt(p.exprStmt(p.call(exc.Raise, args...)), sc)
}

// reraise lowers a bare raise, which raises again what the enclosing
// except clause caught.
func (lw *stmtLowerer) reraise(s *syntax.ExprStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	p := at(s.X.(*syntax.CallExpr).Lparen)
	if sc.exc == "" {
		return nil, syntax.Error{Pos: syntax.Position(p), Msg: "raise without an exception " +
			"is only allowed in an except clause; name the exception to raise"}
	}
	return []syntax.Stmt{p.exprStmt(p.call(exc.Reraise, p.ident(sc.exc)))}, nil
}

// assert lowers "assert cond, msg" to "if not cond: fail with
// AssertionError(msg)"; the message is evaluated only on failure.
func (lw *stmtLowerer) assert(s *syntax.AssignStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	pos := s.LHS.(*syntax.Ident).NamePos
	if err := lw.needTopLevel(pos, "assert", sc); err != nil {
		return nil, err
	}
	p := at(pos)
	cond, args := s.RHS, []syntax.Expr(nil)
	if t, ok := s.RHS.(*syntax.TupleExpr); ok && !t.Lparen.IsValid() {
		if len(t.List) != 2 {
			return nil, syntax.Error{Pos: pos, Msg: "assert: want assert condition or assert condition, message"}
		}
		cond, args = t.List[0], t.List[1:]
	}
	fail := p.exprStmt(p.call(exc.AssertFailed, args...))
	not := &syntax.UnaryExpr{OpPos: pos, Op: syntax.NOT, X: cond}
	return lw.stmt(p.ifStmt(not, []syntax.Stmt{fail}, nil), sc)
}

// del lowers each target of a del statement: x[k] and x[i:j] to calls
// that remove the entries; a name to None, the nearest Starlark has to
// unbinding it.
func (lw *stmtLowerer) del(s *syntax.AssignStmt, sc *stmtScope) ([]syntax.Stmt, error) {
	var out []syntax.Stmt
	for _, t := range delTargets(s.RHS) {
		start, _ := t.Span()
		p := at(start)
		none := func(e syntax.Expr) syntax.Expr {
			if e == nil {
				return p.ident("None")
			}
			return e
		}
		switch t := t.(type) {
		case *syntax.Ident:
			if err := lw.needTopLevel(start, "del", sc); err != nil {
				return nil, err
			}
			out = append(out, p.assign(t, p.ident("None")))
		case *syntax.IndexExpr:
			out = append(out, p.exprStmt(p.call(exc.DelItem, t.X, t.Y)))
		case *syntax.SliceExpr:
			out = append(out, p.exprStmt(p.call(exc.DelSlice, t.X, none(t.Lo), none(t.Hi), none(t.Step))))
		case *syntax.DotExpr:
			return nil, syntax.Error{Pos: start, Msg: "del of an attribute is not supported: " +
				"set it to None, or keep the values in a dict and del d[key]"}
		default:
			return nil, syntax.Error{Pos: start, Msg: "del: want a name, x[key] or x[i:j]"}
		}
	}
	return lw.block(out, sc)
}

// needTopLevel rejects a construct at module level when the file options
// would reject what it lowers to: the if statements and reassigned
// globals it needs.
func (lw *stmtLowerer) needTopLevel(pos syntax.Position, what string, sc *stmtScope) error {
	if sc.module && !(lw.opts.TopLevelControl && lw.opts.GlobalReassign) {
		return syntax.Error{Pos: pos, Msg: what + " at top level needs the TopLevelControl and GlobalReassign file options"}
	}
	return nil
}
