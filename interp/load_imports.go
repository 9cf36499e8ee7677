package interp

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/star"
)

// Python-style imports of libraries. "from mylib import f" and
// "import mylib" work when mylib.star or mylib.py sits beside the
// importing file (a module of the table, such as parsl or os, wins over
// a file of the same name). The lowering binds each imported name to a
// predeclared one; here the table names, for each such module, a
// sentinel per export, and after parsing each top-level "f = <sentinel>"
// becomes load("<library>", f = "f"), so the library runs where the
// import is, once, like any loaded library (see rewriteImports for
// imports inside a def).

// moduleKey is the name under which a library's load result holds the
// library as one module value, for "import mylib". It is not an
// identifier, so no global of the library can clash with it.
const moduleKey = "<module>"

// An importTarget is what a sentinel stands for: a name in a library.
type importTarget struct {
	lib  *library
	name string // an exported name, or moduleKey
}

// importTable is Modules() with an entry for each library that lib
// imports Python-style, whose library it compiles first.
func (k *linker) importTable(lib *library) ModuleTable {
	table := Modules()
	lib.imports = map[lineCol]string{}
	for _, s := range findStarts(lib.src) {
		if s.kind != startImport && s.kind != startFrom {
			continue
		}
		imp, err := parseImport(lib.src, s)
		if err != nil {
			continue // Parse reports it, at the same place
		}
		var modules []dotted
		var wanted []string
		if imp.module != nil {
			modules = []dotted{*imp.module}
			for _, a := range imp.names {
				wanted = append(wanted, a.name)
			}
		} else {
			for _, a := range imp.names {
				modules = append(modules, a.dotted)
			}
		}
		for _, m := range modules {
			if _, known := table[m.name]; known && !k.isLibraryEntry(table[m.name]) || strings.Contains(m.name, ".") {
				continue
			}
			dep := k.besideModule(lib, m)
			if dep == nil {
				continue // the lowering reports an unknown module
			}
			lib.imports[lineCol{s.pos.line, s.pos.col}] = dep.name
			entry, ok := table[m.name]
			if !ok {
				entry = Module{Value: k.sentinel(dep, moduleKey), Names: map[string]string{}}
				for name := range dep.exports {
					entry.Names[name] = k.sentinel(dep, name)
				}
				table[m.name] = entry
			}
			if dep.exports == nil {
				// The library failed (its problems are reported): take
				// the names asked for, so they are not reported too.
				for _, name := range wanted {
					entry.Names[name] = k.sentinel(dep, name)
				}
			}
		}
	}
	return table
}

// isLibraryEntry reports whether a table entry is one importTable added.
func (k *linker) isLibraryEntry(m Module) bool {
	_, ok := k.sentinels[m.Value]
	return ok
}

// besideModule is the library file for module m beside lib, compiled, or
// nil if there is none (or it cannot be compiled: a problem says why).
func (k *linker) besideModule(lib *library, m dotted) *library {
	for _, ext := range []string{".star", ".py"} {
		module := "./" + m.name + ext
		if !k.besideExists(lib, module) || lib.disk != "" && filepath.Base(lib.disk) == m.name+ext {
			continue // a file does not import itself (numpy.py importing numpy)
		}
		dep, known := lib.byModule[module]
		if !known {
			at := syntax.MakePosition(&lib.file, m.pos.line, m.pos.col)
			dep = k.dependency(lib, module, at)
			lib.byModule[module] = dep
		}
		if dep != nil {
			lib.byModule[dep.name] = dep // what the load statement will say
		}
		return dep
	}
	return nil
}

func (k *linker) besideExists(lib *library, module string) bool {
	if lib.repo == stdlibRepo {
		fi, err := fs.Stat(star.FS(), path.Join(path.Dir(lib.embedded), module))
		return err == nil && fi.Mode().IsRegular()
	}
	fi, err := os.Stat(filepath.Join(filepath.Dir(lib.disk), filepath.FromSlash(module)))
	return err == nil && fi.Mode().IsRegular()
}

// sentinel is the predeclared-looking name the lowering binds for name in
// dep. It cannot clash with a user's name: it is not an identifier.
func (k *linker) sentinel(dep *library, name string) string {
	s := "<import " + dep.name + " " + name + ">"
	k.sentinels[s] = importTarget{dep, name}
	return s
}

// rewriteImports turns each top-level "x = <sentinel>" the lowering made
// into the load statement it stands for. Starlark loads only at top
// level, so an import anywhere else (Parsl apps import inside their body)
// reads a file-local name that a load hoisted to the top of the file
// binds: the sentinel itself. Such a library runs when the script starts
// rather than when the import is reached.
func (k *linker) rewriteImports(lib *library, f *syntax.File) {
	load := func(at syntax.Position, t importTarget, from, to *syntax.Ident) *syntax.LoadStmt {
		return &syntax.LoadStmt{
			Load: at,
			Module: &syntax.Literal{Token: syntax.STRING, TokenPos: to.NamePos,
				Raw: strconv.Quote(t.lib.name), Value: t.lib.name},
			From:   []*syntax.Ident{from},
			To:     []*syntax.Ident{to},
			Rparen: to.NamePos,
		}
	}
	for i, stmt := range f.Stmts {
		as, ok := stmt.(*syntax.AssignStmt)
		if !ok || as.Op != syntax.EQ {
			continue
		}
		lhs, ok1 := as.LHS.(*syntax.Ident)
		rhs, ok2 := as.RHS.(*syntax.Ident)
		if !ok1 || !ok2 {
			continue
		}
		if t, ok := k.sentinels[rhs.Name]; ok {
			from := &syntax.Ident{NamePos: rhs.NamePos, Name: t.name}
			f.Stmts[i] = load(as.OpPos, t, from, &syntax.Ident{NamePos: lhs.NamePos, Name: lhs.Name})
		}
	}
	var hoisted []syntax.Stmt
	seen := map[string]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		if id, ok := n.(*syntax.Ident); ok && !seen[id.Name] {
			if t, ok := k.sentinels[id.Name]; ok {
				seen[id.Name] = true
				from := &syntax.Ident{NamePos: id.NamePos, Name: t.name}
				hoisted = append(hoisted, load(id.NamePos, t, from, &syntax.Ident{NamePos: id.NamePos, Name: id.Name}))
			}
		}
		return true
	})
	if len(hoisted) > 0 {
		f.Stmts = append(hoisted, f.Stmts...)
	}
}
