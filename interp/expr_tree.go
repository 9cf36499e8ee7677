package interp

import (
	"strings"

	"go.starlark.net/syntax"
)

// The tree step of the expression pass: s.format(...), s.format_map(m)
// and s % x, which parse as Starlark but would run with Starlark's
// formatting, become calls of Python's (package stdlib/format):
//
//	s.format(a, k=b)   ->  _sf_format(s, a, k=b)
//	s % x              ->  _sf_percent(s, x)
//	s %= x             ->  s = _sf_percent(s, x)   (s a name)
//
// A % whose left operand cannot be a string (a number, a unary or an
// arithmetic expression) stays Starlark's operator, so that arithmetic
// loops pay no call.

func lowerExprTree(_ *lowering, f *syntax.File) error {
	stmts(f.Stmts)
	return nil
}

func stmts(list []syntax.Stmt) {
	for _, s := range list {
		stmt(s)
	}
}

func stmt(s syntax.Stmt) {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		s.LHS = expr(s.LHS)
		s.RHS = expr(s.RHS)
		if id, ok := s.LHS.(*syntax.Ident); ok && s.Op == syntax.PERCENT_EQ {
			target := &syntax.Ident{NamePos: id.NamePos, Name: id.Name}
			s.Op = syntax.EQ
			s.RHS = helperCall("_sf_percent", s.OpPos, target, s.RHS)
		}
	case *syntax.DefStmt:
		exprs(s.Params)
		stmts(s.Body)
	case *syntax.ExprStmt:
		s.X = expr(s.X)
	case *syntax.ForStmt:
		s.X = expr(s.X)
		if v, ok := s.Vars.(*syntax.Ident); !ok || !strings.HasPrefix(v.Name, "_sf_") {
			// Not another lowering's marker loop (with ... as x).
			s.X = iterable(s.X)
		}
		stmts(s.Body)
	case *syntax.WhileStmt:
		s.Cond = expr(s.Cond)
		stmts(s.Body)
	case *syntax.IfStmt:
		s.Cond = expr(s.Cond)
		stmts(s.True)
		stmts(s.False)
	case *syntax.ReturnStmt:
		s.Result = expr(s.Result)
	}
}

func exprs(list []syntax.Expr) {
	for i, e := range list {
		list[i] = expr(e)
	}
}

// expr lowers e and what it holds, returning its replacement.
func expr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.BinaryExpr:
		e.X = expr(e.X)
		e.Y = expr(e.Y)
		if e.Op == syntax.PERCENT && mayBeString(e.X) {
			return helperCall("_sf_percent", e.OpPos, e.X, e.Y)
		}
	case *syntax.CallExpr:
		e.Fn = expr(e.Fn)
		exprs(e.Args)
		if dot, ok := e.Fn.(*syntax.DotExpr); ok && (dot.Name.Name == "format" || dot.Name.Name == "format_map") {
			return &syntax.CallExpr{
				Fn:     &syntax.Ident{NamePos: dot.Name.NamePos, Name: "_sf_" + dot.Name.Name},
				Lparen: e.Lparen,
				Args:   append([]syntax.Expr{dot.X}, e.Args...),
				Rparen: e.Rparen,
			}
		}
	case *syntax.Comprehension:
		e.Body = expr(e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.X = iterable(expr(c.X))
			case *syntax.IfClause:
				c.Cond = expr(c.Cond)
			}
		}
	case *syntax.CondExpr:
		e.Cond = expr(e.Cond)
		e.True = expr(e.True)
		e.False = expr(e.False)
	case *syntax.DictEntry:
		e.Key = expr(e.Key)
		e.Value = expr(e.Value)
	case *syntax.DictExpr:
		exprs(e.List)
	case *syntax.DotExpr:
		e.X = expr(e.X)
		// type(x).__name__: Starlark's type(x) already is the name.
		if call, ok := e.X.(*syntax.CallExpr); ok && e.Name.Name == "__name__" && len(call.Args) == 1 {
			if fn, ok := call.Fn.(*syntax.Ident); ok && fn.Name == "type" {
				return call
			}
		}
	case *syntax.IndexExpr:
		e.X = expr(e.X)
		e.Y = expr(e.Y)
	case *syntax.LambdaExpr:
		exprs(e.Params)
		e.Body = expr(e.Body)
	case *syntax.ListExpr:
		exprs(e.List)
	case *syntax.ParenExpr:
		e.X = expr(e.X)
	case *syntax.SliceExpr:
		e.X = expr(e.X)
		e.Lo = expr(e.Lo)
		e.Hi = expr(e.Hi)
		e.Step = expr(e.Step)
	case *syntax.TupleExpr:
		exprs(e.List)
	case *syntax.UnaryExpr:
		e.X = expr(e.X)
	}
	return e
}

// iterable wraps what a for loop iterates so that a string yields its
// characters, as in Python (Starlark strings are not iterable). Lists,
// comprehensions and the usual iterator-making calls are left alone.
func iterable(e syntax.Expr) syntax.Expr {
	switch x := e.(type) {
	case *syntax.ListExpr, *syntax.Comprehension, *syntax.TupleExpr, *syntax.DictExpr:
		return e
	case *syntax.CallExpr:
		if fn, ok := x.Fn.(*syntax.Ident); ok {
			if strings.HasPrefix(fn.Name, "_sf_") {
				return e // another lowering's marker (with ... as x)
			}
			switch fn.Name {
			case "range", "enumerate", "zip", "sorted", "reversed", "list":
				return e
			}
		}
		if dot, ok := x.Fn.(*syntax.DotExpr); ok {
			switch dot.Name.Name {
			case "items", "keys", "values", "split", "splitlines", "elems":
				return e
			}
		}
	}
	start, _ := e.Span()
	return helperCall("_sf_iter", start, e)
}

// mayBeString reports whether e could evaluate to a string, so that a %
// applied to it may be formatting rather than arithmetic.
func mayBeString(e syntax.Expr) bool {
	switch e := e.(type) {
	case *syntax.Literal:
		return e.Token == syntax.STRING
	case *syntax.UnaryExpr:
		return false
	case *syntax.ParenExpr:
		return mayBeString(e.X)
	case *syntax.BinaryExpr:
		switch e.Op {
		case syntax.MINUS, syntax.SLASH, syntax.SLASHSLASH, syntax.LTLT, syntax.GTGT,
			syntax.AMP, syntax.CIRCUMFLEX, syntax.PERCENT:
			return false
		}
	}
	return true
}

// helperCall builds name(args...) for an operator at pos: the call's
// errors are reported there.
func helperCall(name string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{
		Fn:     &syntax.Ident{NamePos: pos, Name: name},
		Lparen: pos,
		Args:   args,
		Rparen: pos,
	}
}
