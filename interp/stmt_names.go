package interp

import (
	"strconv"
	"strings"

	"go.starlark.net/syntax"
)

// A lowered try body is a nested def, so a name it assigns would be local
// to it. Instead each such name is redirected: the body writes it into a
// dict the enclosing scope made ($w), reads it from there once written
// (and from the enclosing scope before), and the enclosing scope copies
// it back when the body is done. Writes go through at once, so what the
// body assigned before it raised is there for the handlers, as in Python.
//
//	x = f(x)   →   $w["x"] = f(($w["x"] if "x" in $w else x))

// redirects maps each redirected name to the dict variable holding it.
type redirects map[string]string

// without returns r less the names that a nested function, lambda or
// comprehension binds for itself.
func (r redirects) without(names []string) redirects {
	var out redirects
	for _, n := range names {
		if _, ok := r[n]; !ok {
			continue
		}
		if out == nil {
			out = make(redirects, len(r))
			for k, v := range r {
				out[k] = v
			}
		}
		delete(out, n)
	}
	if out == nil {
		return r
	}
	return out
}

// redirectedRead is how a body reads a redirected name.
func redirectedRead(id *syntax.Ident, w string) syntax.Expr {
	p := at(id.NamePos)
	return &syntax.CondExpr{
		If:      id.NamePos,
		Cond:    p.binary(syntax.IN, p.str(id.Name), p.ident(w)),
		True:    p.index(p.ident(w), p.str(id.Name)),
		ElsePos: id.NamePos,
		False:   p.ident(id.Name),
	}
}

// expr rewrites the reads of redirected names in e (in place where it
// can) and returns the result.
func (r redirects) expr(e syntax.Expr) syntax.Expr {
	if len(r) == 0 || e == nil {
		return e
	}
	switch x := e.(type) {
	case *syntax.Ident:
		if w, ok := r[x.Name]; ok {
			return redirectedRead(x, w)
		}
	case *syntax.BinaryExpr:
		x.X, x.Y = r.expr(x.X), r.expr(x.Y)
	case *syntax.UnaryExpr:
		x.X = r.expr(x.X)
	case *syntax.CallExpr:
		x.Fn = r.expr(x.Fn)
		r.args(x.Args)
	case *syntax.DotExpr:
		x.X = r.expr(x.X)
	case *syntax.IndexExpr:
		x.X, x.Y = r.expr(x.X), r.expr(x.Y)
	case *syntax.SliceExpr:
		x.X, x.Lo, x.Hi, x.Step = r.expr(x.X), r.expr(x.Lo), r.expr(x.Hi), r.expr(x.Step)
	case *syntax.ParenExpr:
		x.X = r.expr(x.X)
	case *syntax.TupleExpr:
		r.list(x.List)
	case *syntax.ListExpr:
		r.list(x.List)
	case *syntax.DictExpr:
		r.list(x.List)
	case *syntax.DictEntry:
		x.Key, x.Value = r.expr(x.Key), r.expr(x.Value)
	case *syntax.CondExpr:
		x.Cond, x.True, x.False = r.expr(x.Cond), r.expr(x.True), r.expr(x.False)
	case *syntax.LambdaExpr:
		r.defaults(x.Params)
		x.Body = r.without(boundParams(x.Params)).expr(x.Body)
	case *syntax.Comprehension:
		// The first iterable is evaluated outside the comprehension;
		// each for clause's names hide outer ones from there on.
		inner := r
		for _, c := range x.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.X = inner.expr(c.X)
				inner = inner.without(targetIdents(c.Vars, nil))
			case *syntax.IfClause:
				c.Cond = inner.expr(c.Cond)
			}
		}
		x.Body = inner.expr(x.Body)
	}
	return e
}

func (r redirects) list(xs []syntax.Expr) {
	for i, x := range xs {
		xs[i] = r.expr(x)
	}
}

// args rewrites call arguments: of a name=value pair, the value only,
// the name being a keyword.
func (r redirects) args(xs []syntax.Expr) {
	for i, x := range xs {
		if b, ok := x.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			b.Y = r.expr(b.Y)
			continue
		}
		xs[i] = r.expr(x)
	}
}

// defaults rewrites the default values of a def's or lambda's
// parameters, which are evaluated where the function is defined.
func (r redirects) defaults(params []syntax.Expr) {
	for _, x := range params {
		if b, ok := x.(*syntax.BinaryExpr); ok && b.Op == syntax.EQ {
			b.Y = r.expr(b.Y)
		}
	}
}

// target rewrites an assignment target: a redirected name becomes its
// dict entry; the reads inside x[i] and x.f are rewritten.
func (r redirects) target(e syntax.Expr) syntax.Expr {
	if len(r) == 0 {
		return e
	}
	switch x := e.(type) {
	case *syntax.Ident:
		if w, ok := r[x.Name]; ok {
			p := at(x.NamePos)
			return p.index(p.ident(w), p.str(x.Name))
		}
	case *syntax.TupleExpr:
		for i, y := range x.List {
			x.List[i] = r.target(y)
		}
	case *syntax.ListExpr:
		for i, y := range x.List {
			x.List[i] = r.target(y)
		}
	case *syntax.ParenExpr:
		x.X = r.target(x.X)
	case *syntax.IndexExpr:
		x.X, x.Y = r.expr(x.X), r.expr(x.Y)
	case *syntax.DotExpr:
		x.X = r.expr(x.X)
	}
	return e
}

// boundParams lists the names a def's or lambda's parameters bind.
func boundParams(params []syntax.Expr) []string {
	var names []string
	for _, p := range params {
		switch p := p.(type) {
		case *syntax.Ident:
			names = append(names, p.Name)
		case *syntax.BinaryExpr:
			if id, ok := p.X.(*syntax.Ident); ok {
				names = append(names, id.Name)
			}
		case *syntax.UnaryExpr:
			if id, ok := p.X.(*syntax.Ident); ok {
				names = append(names, id.Name)
			}
		}
	}
	return names
}

// targetIdents appends the names an assignment target binds.
func targetIdents(e syntax.Expr, names []string) []string {
	switch x := e.(type) {
	case *syntax.Ident:
		names = append(names, x.Name)
	case *syntax.TupleExpr:
		for _, y := range x.List {
			names = targetIdents(y, names)
		}
	case *syntax.ListExpr:
		for _, y := range x.List {
			names = targetIdents(y, names)
		}
	case *syntax.ParenExpr:
		names = targetIdents(x.X, names)
	}
	return names
}

// boundNames lists, in order of first appearance, the user's names that
// statements bind in their own scope (not in nested defs, lambdas or
// comprehensions), lowered statements still marked included. Hidden
// names ($w1, ...) are the lowering's own and never leave their scope.
func boundNames(stmts []syntax.Stmt) []string {
	var b stmtBinder
	b.stmts(stmts)
	return b.names
}

type stmtBinder struct {
	names []string
	seen  map[string]bool
}

func (b *stmtBinder) add(names ...string) {
	for _, n := range names {
		if strings.HasPrefix(n, "$") || strings.HasPrefix(n, markPrefix) || b.seen[n] {
			continue
		}
		if b.seen == nil {
			b.seen = map[string]bool{}
		}
		b.seen[n] = true
		b.names = append(b.names, n)
	}
}

func (b *stmtBinder) stmts(stmts []syntax.Stmt) {
	for _, s := range stmts {
		switch s := s.(type) {
		case *syntax.AssignStmt:
			switch stmtMark(s.LHS) {
			case markDel:
				for _, t := range delTargets(s.RHS) {
					if id, ok := t.(*syntax.Ident); ok {
						b.add(id.Name)
					}
				}
			case "":
				b.add(targetIdents(s.LHS, nil)...)
			}
		case *syntax.DefStmt:
			b.add(s.Name.Name)
		case *syntax.ForStmt:
			if stmtMark(s.Vars) == markWith {
				items, _ := withItems(s.X)
				for _, it := range items {
					if it.target != nil {
						b.add(targetIdents(it.target, nil)...)
					}
				}
			} else {
				b.add(targetIdents(s.Vars, nil)...)
			}
			b.stmts(s.Body)
		case *syntax.WhileStmt:
			b.stmts(s.Body)
		case *syntax.IfStmt:
			if c, ok := s.Cond.(*syntax.CallExpr); ok && stmtMark(c) == markExceptAs && len(c.Args) == 2 {
				b.add(targetIdents(c.Args[1], nil)...)
			}
			b.stmts(s.True)
			b.stmts(s.False)
		case *syntax.LoadStmt:
			for _, id := range s.To {
				b.add(id.Name)
			}
		}
	}
}

// delTargets lists the targets of a del statement.
func delTargets(e syntax.Expr) []syntax.Expr {
	switch x := e.(type) {
	case *syntax.TupleExpr:
		var out []syntax.Expr
		for _, y := range x.List {
			out = append(out, delTargets(y)...)
		}
		return out
	case *syntax.ListExpr:
		var out []syntax.Expr
		for _, y := range x.List {
			out = append(out, delTargets(y)...)
		}
		return out
	case *syntax.ParenExpr:
		if _, ok := x.X.(*syntax.TupleExpr); ok {
			return delTargets(x.X)
		}
		return delTargets(x.X)
	}
	return []syntax.Expr{e}
}

// stmtMark is the marker a lowered statement carries (an identifier, or a
// call of one), or "".
func stmtMark(e syntax.Expr) string {
	if c, ok := e.(*syntax.CallExpr); ok {
		e = c.Fn
	}
	if id, ok := e.(*syntax.Ident); ok && strings.HasPrefix(id.Name, markPrefix) {
		return id.Name
	}
	return ""
}

// at builds the nodes lowered statements are made of, each at the user's
// position, so errors and backtraces point at what they wrote.
type at syntax.Position

func (p at) ident(name string) *syntax.Ident {
	return &syntax.Ident{NamePos: syntax.Position(p), Name: name}
}

func (p at) str(s string) *syntax.Literal {
	return &syntax.Literal{Token: syntax.STRING, TokenPos: syntax.Position(p), Raw: strconv.Quote(s), Value: s}
}

func (p at) call(fn string, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: p.ident(fn), Lparen: syntax.Position(p), Args: args, Rparen: syntax.Position(p)}
}

func (p at) dot(x syntax.Expr, name string) *syntax.DotExpr {
	return &syntax.DotExpr{X: x, Dot: syntax.Position(p), NamePos: syntax.Position(p), Name: p.ident(name)}
}

func (p at) index(x, y syntax.Expr) *syntax.IndexExpr {
	return &syntax.IndexExpr{X: x, Lbrack: syntax.Position(p), Y: y, Rbrack: syntax.Position(p)}
}

func (p at) binary(op syntax.Token, x, y syntax.Expr) *syntax.BinaryExpr {
	return &syntax.BinaryExpr{X: x, OpPos: syntax.Position(p), Op: op, Y: y}
}

func (p at) assign(lhs, rhs syntax.Expr) *syntax.AssignStmt {
	return &syntax.AssignStmt{OpPos: syntax.Position(p), Op: syntax.EQ, LHS: lhs, RHS: rhs}
}

func (p at) ifStmt(cond syntax.Expr, yes, no []syntax.Stmt) *syntax.IfStmt {
	if len(no) == 0 {
		no = nil
	}
	return &syntax.IfStmt{If: syntax.Position(p), Cond: cond, True: yes, ElsePos: syntax.Position(p), False: no}
}

func (p at) exprStmt(x syntax.Expr) *syntax.ExprStmt { return &syntax.ExprStmt{X: x} }
