package interp

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"go.starlark.net/syntax"
)

// Lowering turns the two pieces of Python syntax that Starlark cannot parse,
// decorators and imports, into Starlark, without moving any of the user's
// text: every line and column in the syntax tree, and so in every error and
// backtrace, is where the user wrote it.
//
// It works in two steps. The text step (findStarts, parseImport) overwrites
// each decorator's "@" with a "+", so that the decorator parses as a unary
// expression statement at the same column (a space would indent the line),
// and each import statement with "pass" and spaces. The tree step then finds
// those statements by position and replaces them: the decorators with
// "f = deco(f)" after their def, the passes with the names the import binds.

// ModuleTable says which Python-style modules a script may import and what
// each binds. Key: dotted module path ("parsl", "parsl.app.app", "sys").
type ModuleTable map[string]Module

// Module is what one importable module provides, in predeclared names.
type Module struct {
	// Value is the predeclared global name that `import x` / `import x as y`
	// binds (e.g. "parsl" for module "parsl", "sys" for "sys"). Empty means
	// the module cannot be imported whole (only `from x import ...`).
	Value string
	// Names maps each importable name to the predeclared global that holds it
	// (e.g. "python_app" -> "python_app", "Config" -> "Config").
	Names map[string]string
}

// Parse lowers the Parsl dialect in src and parses the result with opts,
// returning a syntax tree ready for starlark.FileProgram. Every position in
// the tree (and in any error) is the user's original line and column.
//
// A decorated def becomes the def followed by "f = deco(f)", so decorating a
// top-level def needs opts.GlobalReassign; without it Parse reports an error
// at the decorator rather than leave the resolver to reject the rebinding.
// Errors are syntax.Error values; the first in source order is returned.
func Parse(filename string, src []byte, opts *syntax.FileOptions, modules ModuleTable) (*syntax.File, error) {
	if opts == nil {
		opts = &syntax.FileOptions{}
	}
	// Fast path: nothing any pass would touch means nothing to lower.
	if !mayLower(src) {
		return opts.Parse(filename, src, 0)
	}

	fname := filename
	l := &lowering{
		file:    &fname,
		opts:    opts,
		modules: modules,
		decos:   map[lineCol]bool{},
		imports: map[lineCol][]binding{},
	}
	ed := &edits{src: src}
	l.rewrite(src, ed)
	for _, p := range passes {
		if p.text == nil {
			continue
		}
		if err := p.text(l, src, ed); err != nil && l.err == nil {
			l.err = err
		}
	}
	text, pm := ed.apply()
	f, perr := opts.Parse(filename, text, 0)
	perr = pm.remapError(perr)
	if pm != nil && f != nil {
		pm.remapFile(f)
	}
	if l.err != nil {
		// A parse error strictly before the failed statement is the user's
		// first problem; anything from the statement on is likely caused by
		// the import text we could not lower.
		if pe, ok := perr.(syntax.Error); ok && before(pe.Pos, l.errAt) {
			return nil, perr
		}
		return nil, l.err
	}
	if perr != nil {
		return nil, perr
	}
	if len(l.decos) > 0 || len(l.imports) > 0 {
		stmts, err := l.block(f.Stmts, false)
		if err != nil {
			return nil, err
		}
		f.Stmts = stmts
	}
	for _, p := range passes {
		if p.tree == nil {
			continue
		}
		if err := p.tree(l, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// A pass lowers one family of Python constructs. Its text step records
// edits that make the construct parse as Starlark (the edits may change
// lengths: positions are mapped back); its tree step, after parsing,
// rewrites what the text step marked. Passes must not edit overlapping
// text.
type pass struct {
	// quick reports whether src may hold the construct at all; it lets
	// Parse skip lowering for plain Starlark.
	quick func(src []byte) bool
	text  func(l *lowering, src []byte, e *edits) error
	tree  func(l *lowering, f *syntax.File) error
}

// passes are the dialect's lowerings beyond decorators and imports, in
// the order their tree steps run.
var passes = []pass{exprPass, stmtPass}

// mayLower reports whether any lowering could apply to src.
func mayLower(src []byte) bool {
	if bytes.IndexByte(src, '@') >= 0 || bytes.Contains(src, []byte("import")) || bytes.Contains(src, []byte(".load")) {
		return true
	}
	for _, p := range passes {
		if p.quick != nil && p.quick(src) {
			return true
		}
	}
	return false
}

// LoadAttr is what an attribute written ".load" is called after lowering:
// modules with a load function (parsl, json) expose it under this name too.
const LoadAttr = "LOAD"

// A lineCol keys statements found in the text by where they start.
type lineCol struct{ line, col int32 }

func keyOf(p syntax.Position) lineCol { return lineCol{p.Line, p.Col} }

func before(p syntax.Position, q lineCol) bool {
	return p.Line < q.line || p.Line == q.line && p.Col < q.col
}

// A binding is one name an import statement binds: lhs = rhs, where rhs is
// a predeclared global. Each carries the user's position for its errors.
type binding struct {
	lhs, rhs dotted
}

// A lowering holds what the text step found, for the tree step to apply.
type lowering struct {
	file    *string // for positions of errors found before parsing
	opts    *syntax.FileOptions
	modules ModuleTable
	decos   map[lineCol]bool      // the "@" of each decorator
	imports map[lineCol][]binding // each import's keyword, now "pass"

	err   error   // first error of the text step
	errAt lineCol // where its statement starts
}

// rewrite records the edits that overwrite decorators and imports (same
// length, so nothing moves), noting each in l.
func (l *lowering) rewrite(src []byte, e *edits) {
	last := 0 // end of the last import lowered
	for _, s := range findStarts(src) {
		if s.pos.off < last {
			continue // inside an import already lowered
		}
		at := lineCol{s.pos.line, s.pos.col}
		switch s.kind {
		case startLoadAttr:
			// "load" is a Starlark keyword, so parsl.load(config) would not
			// parse; the attribute is spelt LoadAttr's way instead, same
			// length so nothing after it moves.
			e.replace(s.pos.off, s.pos.off+len(LoadAttr), LoadAttr)
			continue
		case startDecorator:
			e.replace(s.pos.off, s.pos.off+1, "+")
			l.decos[at] = true
			continue
		}
		imp, serr := parseImport(src, s)
		var binds []binding
		if serr == nil {
			binds, serr = l.modules.bind(imp)
		}
		if serr != nil {
			if l.err == nil {
				l.err = l.errorAt(serr.pos, serr.msg)
				l.errAt = at
			}
			continue
		}
		blank := appendBlanked([]byte("pass"), src[s.pos.off+len("pass"):imp.end])
		e.replace(s.pos.off, imp.end, string(blank))
		last = imp.end
		l.imports[at] = binds
	}
}

// appendBlanked appends text with each rune but line endings made a space,
// so that whatever follows keeps its line and column.
func appendBlanked(out, text []byte) []byte {
	for len(text) > 0 {
		b := text[0]
		size := 1
		if b >= utf8.RuneSelf {
			_, size = utf8.DecodeRune(text)
		}
		if isNewline(b) {
			out = append(out, b)
		} else {
			out = append(out, ' ')
		}
		text = text[size:]
	}
	return out
}

func (l *lowering) errorAt(p srcPos, msg string) error {
	return syntax.Error{Pos: syntax.MakePosition(l.file, p.line, p.col), Msg: msg}
}

// bind resolves an import statement against the table: the names it binds,
// or an error at the module or name the table does not have.
func (mt ModuleTable) bind(imp *importStmt) ([]binding, *scanError) {
	if imp.module != nil {
		return mt.bindFrom(imp)
	}
	var binds []binding
	for _, a := range imp.names {
		m, err := mt.lookup(a.dotted)
		if err != nil {
			return nil, err
		}
		target := dotted{m.Value, a.pos}
		if a.alias == nil && strings.Contains(a.name, ".") {
			// "import a.b" binds "a", if "a" itself can be imported.
			first := a.bound()
			target = dotted{mt[first.name].Value, a.pos}
			if target.name == "" {
				continue
			}
		} else if m.Value == "" {
			return nil, &scanError{a.pos, fmt.Sprintf(
				"module %q cannot be imported whole; use \"from %s import ...\"", a.name, a.name)}
		}
		binds = appendBinding(binds, a.bound(), target)
	}
	return binds, nil
}

// bindFrom resolves "from m import ...".
func (mt ModuleTable) bindFrom(imp *importStmt) ([]binding, *scanError) {
	m, err := mt.lookup(*imp.module)
	if err != nil {
		return nil, err
	}
	var binds []binding
	if imp.star {
		for _, name := range m.sortedNames() {
			binds = appendBinding(binds, dotted{name, imp.module.pos}, dotted{m.Names[name], imp.module.pos})
		}
		return binds, nil
	}
	for _, a := range imp.names {
		global, ok := m.Names[a.name]
		if !ok {
			msg := fmt.Sprintf("module %q has no name %q", imp.module.name, a.name)
			if names := m.sortedNames(); len(names) > 0 {
				msg += " (it has: " + strings.Join(names, ", ") + ")"
			}
			return nil, &scanError{a.pos, msg}
		}
		binds = appendBinding(binds, a.bound(), dotted{global, a.pos})
	}
	return binds, nil
}

// appendBinding adds lhs = rhs unless it would bind a predeclared name to
// itself: that name is visible already, and at top level Starlark's resolver
// would reject "parsl = parsl" as a use of a global before its binding.
func appendBinding(binds []binding, lhs, rhs dotted) []binding {
	if lhs.name == rhs.name {
		return binds
	}
	return append(binds, binding{lhs, rhs})
}

func (mt ModuleTable) lookup(d dotted) (Module, *scanError) {
	m, ok := mt[d.name]
	if !ok {
		return Module{}, &scanError{d.pos, fmt.Sprintf("import of unknown module %q: "+
			"starflow runs Starlark, not Python; call a Python script from a bash_app instead", d.name)}
	}
	return m, nil
}

func (m Module) sortedNames() []string {
	names := make([]string, 0, len(m.Names))
	for name := range m.Names {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// A pendingDeco is a decorator statement waiting for the def it decorates.
type pendingDeco struct {
	at   syntax.Position // the "@", now "+"
	expr syntax.Expr     // the decorator expression, marker removed
}

// block lowers one statement list and, recursively, the lists inside it.
// inDef says whether the list is inside a function, where rebinding a name
// is always allowed.
func (l *lowering) block(stmts []syntax.Stmt, inDef bool) ([]syntax.Stmt, error) {
	out := make([]syntax.Stmt, 0, len(stmts))
	var pending []pendingDeco
	for _, s := range stmts {
		var err error
		switch s := s.(type) {
		case *syntax.ExprStmt:
			if start, _ := s.Span(); l.decos[keyOf(start)] {
				pending = append(pending, pendingDeco{start, unmark(s.X, start)})
				continue
			}
		case *syntax.BranchStmt:
			if binds, ok := l.imports[keyOf(s.TokenPos)]; ok && s.Token == syntax.PASS && len(binds) > 0 {
				if len(pending) > 0 {
					return nil, notFollowedByDef(pending[0])
				}
				out = append(out, assignments(s.TokenPos, binds)...)
				continue
			}
		case *syntax.DefStmt:
			if s.Body, err = l.block(s.Body, true); err != nil {
				return nil, err
			}
			out = append(out, s)
			if len(pending) > 0 {
				if !inDef && !l.opts.GlobalReassign {
					return nil, syntax.Error{Pos: pending[0].at, Msg: fmt.Sprintf(
						"decorator: cannot rebind top-level %q to its decorated value "+
							"without the GlobalReassign file option", s.Name.Name)}
				}
				out = append(out, decorate(s, pending))
				pending = nil
			}
			continue
		case *syntax.IfStmt:
			if s.True, err = l.block(s.True, inDef); err == nil && s.False != nil {
				s.False, err = l.block(s.False, inDef)
			}
		case *syntax.ForStmt:
			s.Body, err = l.block(s.Body, inDef)
		case *syntax.WhileStmt:
			s.Body, err = l.block(s.Body, inDef)
		}
		if err != nil {
			return nil, err
		}
		if len(pending) > 0 {
			return nil, notFollowedByDef(pending[0])
		}
		out = append(out, s)
	}
	if len(pending) > 0 {
		return nil, notFollowedByDef(pending[0])
	}
	return out, nil
}

func notFollowedByDef(d pendingDeco) error {
	return syntax.Error{Pos: d.at, Msg: "decorator must be followed by a def"}
}

// unmark removes the "+" that stands for the "@" at pos. Unary plus binds
// tighter than any binary operator and looser than calls, attributes and
// indexing, so the marker sits on the left spine of the expression.
func unmark(e syntax.Expr, at syntax.Position) syntax.Expr {
	switch x := e.(type) {
	case *syntax.UnaryExpr:
		if x.Op == syntax.PLUS && keyOf(x.OpPos) == keyOf(at) {
			return x.X
		}
	case *syntax.BinaryExpr:
		x.X = unmark(x.X, at)
	case *syntax.CondExpr:
		x.True = unmark(x.True, at)
	}
	return e
}

// decorate builds "f = d1(d2(f))" for "@d1 @d2 def f". The calls carry their
// decorator's position, so an error raised by a decorator, or an undefined
// decorator name, is reported where the user wrote it.
func decorate(def *syntax.DefStmt, decos []pendingDeco) syntax.Stmt {
	var fn syntax.Expr = &syntax.Ident{NamePos: def.Name.NamePos, Name: def.Name.Name}
	for i := len(decos) - 1; i >= 0; i-- {
		d := decos[i]
		fn = &syntax.CallExpr{Fn: d.expr, Lparen: d.at, Args: []syntax.Expr{fn}, Rparen: d.at}
	}
	return &syntax.AssignStmt{
		OpPos: decos[0].at,
		Op:    syntax.EQ,
		LHS:   &syntax.Ident{NamePos: def.Name.NamePos, Name: def.Name.Name},
		RHS:   fn,
	}
}

// assignments builds the statements an import lowers to. Positions are made
// from the pass statement's, which carries the parser's file name pointer.
func assignments(pass syntax.Position, binds []binding) []syntax.Stmt {
	at := func(p srcPos) syntax.Position {
		pass.Line, pass.Col = p.line, p.col
		return pass
	}
	stmts := make([]syntax.Stmt, len(binds))
	for i, b := range binds {
		stmts[i] = &syntax.AssignStmt{
			OpPos: at(b.lhs.pos),
			Op:    syntax.EQ,
			LHS:   &syntax.Ident{NamePos: at(b.lhs.pos), Name: b.lhs.name},
			RHS:   &syntax.Ident{NamePos: at(b.rhs.pos), Name: b.rhs.name},
		}
	}
	return stmts
}
