package interp

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/memo/project"
	"github.com/starflow-hpc/starflow/stdlib/star"
)

// Libraries (ARCHITECTURE.md §3). A load() names its library in one of
// four ways:
//
//	load("//lib/x.star", "f")        from the project root
//	load("./x.star", "f")            from the loading file's folder ("../" too)
//	load("@stdlib//sweep.star", "g") from the binary (stdlib/star)
//	load("@name//x.star", "h")       from a root given by --lib or STARFLOW_PATH
//
// Inside an @name library (or @stdlib), "//" means that library's root, so
// a shared library can load its own files wherever it is installed.
//
// Compile resolves every load of the script and, recursively, of its
// libraries before anything runs: a missing library, a name a library does
// not export and a load cycle are compile errors at the load's position.
// Each library gets a canonical module name ("//lib/x.star",
// "@name//x.star", "@stdlib//sweep.star"), which replaces the module string
// in its load statements: it is what the thread's Load receives at run
// time, what code digests and bundles key libraries by, and so the same
// file is one library however it was spelt.

// EnvLibraryPath lists library roots: "name=DIR:name2=DIR2".
const EnvLibraryPath = "STARFLOW_PATH"

// stdlibRepo is the @name of the libraries embedded in the binary.
const stdlibRepo = "stdlib"

// An Option changes where Compile finds libraries.
type Option func(*linkConfig)

type linkConfig struct {
	libs    []string // "name=DIR", later ones win
	libPath *string  // STARFLOW_PATH's value; nil reads the environment
}

// WithLibs adds @name library roots, each given as "name=DIR" (the --lib
// flag). They take precedence over STARFLOW_PATH.
func WithLibs(specs ...string) Option {
	return func(c *linkConfig) { c.libs = append(c.libs, specs...) }
}

// WithLibraryPath sets the library roots that STARFLOW_PATH would give
// ("name=DIR:name2=DIR2"), in place of the environment's.
func WithLibraryPath(list string) Option {
	return func(c *linkConfig) { c.libPath = &list }
}

var rootName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// roots returns the @name roots, absolute, by name.
func (c *linkConfig) roots() (map[string]string, error) {
	roots := map[string]string{}
	add := func(source, spec string) error {
		name, dir, ok := strings.Cut(spec, "=")
		switch {
		case !ok || dir == "":
			return fmt.Errorf("%s %q: want NAME=DIR", source, spec)
		case !rootName.MatchString(name):
			return fmt.Errorf("%s %q: %q is not a library name (letters, digits, _ . -)", source, spec, name)
		case name == stdlibRepo:
			return fmt.Errorf("%s %q: @%s is starflow's own library", source, spec, stdlibRepo)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("%s %q: %w", source, spec, err)
		}
		roots[name] = abs
		return nil
	}
	list := os.Getenv(EnvLibraryPath)
	if c.libPath != nil {
		list = *c.libPath
	}
	for _, spec := range strings.Split(list, ":") {
		if spec == "" {
			continue
		}
		if err := add(EnvLibraryPath+" entry", spec); err != nil {
			return nil, err
		}
	}
	for _, spec := range c.libs {
		if err := add("--lib", spec); err != nil {
			return nil, err
		}
	}
	return roots, nil
}

// A library is one file of a program: the script or a library it loads,
// directly or not.
type library struct {
	name     string // canonical module name; for the script, its path
	file     string // file name in positions and messages
	disk     string // absolute path; "" for @stdlib
	embedded string // path in star.FS(), for @stdlib
	repo     string // "" for the project, else the @name
	root     string // the folder "//" means here ("" for @stdlib)
	src      []byte

	state    libState
	prog     *starlark.Program
	exports  map[string]bool     // nil while unknown (failed, or in a cycle)
	byModule map[string]*library // load() module string -> library (nil: not found)
	hash     [32]byte            // content, then each loaded library's hash
	index    *codeIndex
	loadUses map[string][]string // top-level def -> libraries it names, sorted

	problems   []Problem
	constructs []Construct        // for Check: decorators, imports, .load
	userLoads  []userLoad         // for Check: load statements as written
	imports    map[lineCol]string // import statement -> library it loads
}

type libState int

const (
	libNew libState = iota
	libCompiling
	libDone
)

// moduleName is what __name__ is while the library runs: its file name
// without the extension, as Python names a module.
func (lib *library) moduleName() string {
	base := path.Base(filepath.ToSlash(lib.name))
	return strings.TrimSuffix(base, path.Ext(base))
}

func (lib *library) problem(pos syntax.Position, format string, args ...any) {
	lib.problems = append(lib.problems, Problem{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// addError records an error of Parse or the resolver as problems.
func (lib *library) addError(err error) {
	var se syntax.Error
	var el resolve.ErrorList
	switch {
	case errors.As(err, &el):
		for _, e := range el {
			lib.problems = append(lib.problems, Problem{Pos: e.Pos, Msg: e.Msg})
		}
	case errors.As(err, &se):
		lib.problems = append(lib.problems, Problem{Pos: se.Pos, Msg: se.Msg})
	default:
		lib.problems = append(lib.problems, Problem{Pos: syntax.MakePosition(&lib.file, 0, 0), Msg: err.Error()})
	}
}

// A linker compiles a script and every library it loads.
type linker struct {
	predeclared starlark.StringDict
	roots       map[string]string
	cwd         string
	absNames    bool // the script was named by an absolute path: so are libraries
	projectRoot string
	projectErr  error

	byKey     map[string]*library // by absolute path, or "@stdlib//path"
	order     []*library          // in the order first compiled: the script first
	stack     []*library          // being compiled, for cycles
	sentinels map[string]importTarget
}

// link compiles the script at path (its text is src) and its libraries.
// The error, if any, is Problems.
func link(path string, src []byte, predeclared starlark.StringDict, opts []Option) (*linker, error) {
	var cfg linkConfig
	for _, o := range opts {
		o(&cfg)
	}
	roots, err := cfg.roots()
	if err != nil {
		return nil, err
	}
	k := &linker{
		predeclared: predeclared,
		roots:       roots,
		absNames:    filepath.IsAbs(path),
		byKey:       map[string]*library{},
		sentinels:   map[string]importTarget{},
	}
	if k.cwd, err = os.Getwd(); err != nil {
		k.absNames = true
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The project root matters only to "//" loads; an error finding it is
	// reported there.
	k.projectRoot, k.projectErr = project.Root(path)
	script := &library{name: path, file: path, disk: abs, root: k.projectRoot, src: src}
	k.byKey[abs] = script
	k.compile(script)
	var ps Problems
	for _, lib := range k.order {
		sort.SliceStable(lib.problems, func(i, j int) bool { return posLess(lib.problems[i].Pos, lib.problems[j].Pos) })
		ps = append(ps, lib.problems...)
	}
	if len(ps) > 0 {
		return k, ps
	}
	return k, nil
}

func posLess(a, b syntax.Position) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
}

// compile parses, lowers, links and resolves lib, compiling the libraries
// it loads first (their exports decide what it may load from them).
func (k *linker) compile(lib *library) {
	lib.state = libCompiling
	k.stack = append(k.stack, lib)
	k.order = append(k.order, lib)
	defer func() {
		k.stack = k.stack[:len(k.stack)-1]
		lib.state = libDone
	}()
	lib.byModule = map[string]*library{}

	table := k.importTable(lib)
	f, err := Parse(lib.file, lib.src, FileOptions(), table)
	k.recordConstructs(lib, f)
	if err != nil {
		lib.addError(err)
		return
	}
	k.rewriteImports(lib, f)
	k.linkLoads(lib, f)
	prog, err := starlark.FileProgram(f, k.predeclared.Has)
	// The resolver knows the globals even when it reports errors: the
	// files that load this one are checked against them all the same.
	lib.exports = exportsOf(f)
	if err != nil {
		lib.addError(err)
		return
	}
	lib.prog = prog
	lib.index = newCodeIndex(lib.name, lib.src, f)
	lib.loadUses = loadUses(f)
	lib.hash = libraryHash(lib)
}

// linkLoads resolves each load statement of f, compiles what it loads and
// checks the names it takes; then it gives the statement the library's
// canonical name.
func (k *linker) linkLoads(lib *library, f *syntax.File) {
	for _, stmt := range f.Stmts {
		ld, ok := stmt.(*syntax.LoadStmt)
		if !ok {
			continue // a nested load is the resolver's error to report
		}
		module := ld.ModuleName()
		dep, known := lib.byModule[module]
		if !known {
			dep = k.dependency(lib, module, ld.Module.TokenPos)
			lib.byModule[module] = dep
		}
		if dep == nil {
			continue
		}
		ld.Module.Value = dep.name
		if dep.exports == nil {
			continue
		}
		for _, from := range ld.From {
			if from.Name == moduleKey || strings.HasPrefix(from.Name, "_") {
				continue // the resolver rejects private names itself
			}
			if !dep.exports[from.Name] {
				lib.problem(from.NamePos, "%s has no name %q%s", module, from.Name, listNames(" (it has: %s)", dep.exports))
			}
		}
	}
}

// dependency finds and compiles the library that lib names module, or
// records why it cannot. A library in a load cycle is returned, but with
// no exports.
func (k *linker) dependency(lib *library, module string, at syntax.Position) *library {
	dep, err := k.locate(lib, module)
	if err != nil {
		lib.problem(at, "cannot load %s: %v", module, err)
		return nil
	}
	switch dep.state {
	case libNew:
		k.compile(dep)
	case libCompiling:
		var chain []string
		for i := len(k.stack) - 1; i >= 0; i-- {
			if k.stack[i] == dep {
				for _, l := range k.stack[i:] {
					chain = append(chain, l.file)
				}
				break
			}
		}
		chain = append(chain, dep.file)
		lib.problem(at, "load cycle: %s", strings.Join(chain, " -> "))
	}
	return dep
}

// locate resolves a load() module string written in lib.
func (k *linker) locate(from *library, module string) (*library, error) {
	switch {
	case strings.HasPrefix(module, "@"):
		repo, rest, ok := strings.Cut(module[1:], "//")
		if !ok || repo == "" {
			return nil, fmt.Errorf(`want "@name//path/to/file.star"`)
		}
		if repo == stdlibRepo {
			return k.embeddedFile(rest)
		}
		dir, ok := k.roots[repo]
		if !ok {
			return nil, fmt.Errorf("no library root named %q: give --lib %s=DIR, or add %s=DIR to %s",
				repo, repo, repo, EnvLibraryPath)
		}
		return k.diskFile(repo, dir, filepath.Join(dir, filepath.FromSlash(rest)))
	case strings.HasPrefix(module, "//"):
		if from.repo == stdlibRepo {
			return k.embeddedFile(module[2:])
		}
		if from.repo == "" && k.projectErr != nil {
			return nil, k.projectErr
		}
		return k.diskFile(from.repo, from.root, filepath.Join(from.root, filepath.FromSlash(module[2:])))
	case strings.HasPrefix(module, "./"), strings.HasPrefix(module, "../"):
		if from.repo == stdlibRepo {
			return k.embeddedFile(path.Join(path.Dir(from.embedded), module))
		}
		return k.diskFile(from.repo, from.root, filepath.Join(filepath.Dir(from.disk), filepath.FromSlash(module)))
	}
	return nil, fmt.Errorf(`a library is named from the project root ("//%[1]s"), `+
		`from this file's folder ("./%[1]s"), or from a library root ("@name//%[1]s")`, strings.TrimPrefix(module, "/"))
}

// diskFile is the library at abs, read on first use. repo and root are
// those of the file that named it: a relative load stays in its library.
func (k *linker) diskFile(repo, root, abs string) (*library, error) {
	abs = filepath.Clean(abs)
	if lib := k.byKey[abs]; lib != nil {
		return lib, nil
	}
	file := k.display(abs)
	src, err := os.ReadFile(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no such file: %s", file)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	name := filepath.ToSlash(abs)
	if rel, err := filepath.Rel(root, abs); err == nil && filepath.IsLocal(rel) {
		name = "@" + repo + "//" + filepath.ToSlash(rel)
		if repo == "" {
			name = "//" + filepath.ToSlash(rel)
		}
	}
	lib := &library{name: name, file: file, disk: abs, repo: repo, root: root, src: src}
	k.byKey[abs] = lib
	return lib, nil
}

// embeddedFile is the @stdlib library at p.
func (k *linker) embeddedFile(p string) (*library, error) {
	p = path.Clean(p)
	name := "@" + stdlibRepo + "//" + p
	if lib := k.byKey[name]; lib != nil {
		return lib, nil
	}
	var src []byte
	err := fs.ErrNotExist
	if fs.ValidPath(p) {
		src, err = fs.ReadFile(star.FS(), p)
	}
	if err != nil {
		have, _ := fs.Glob(star.FS(), "*.star")
		return nil, fmt.Errorf("@%s has no %s (it has: %s)", stdlibRepo, p, strings.Join(have, ", "))
	}
	lib := &library{name: name, file: name, embedded: p, repo: stdlibRepo, src: src}
	k.byKey[name] = lib
	return lib, nil
}

// display is the file name positions give for the file at abs: relative
// to the working directory, as the user named the script, unless the
// script was named by an absolute path.
func (k *linker) display(abs string) string {
	if !k.absNames {
		if rel, err := filepath.Rel(k.cwd, abs); err == nil {
			return rel
		}
	}
	return abs
}

// exportsOf lists the names a library exports: its globals, but for those
// that begin with "_" (Starlark's load refuses those anyway).
func exportsOf(f *syntax.File) map[string]bool {
	m, ok := f.Module.(*resolve.Module)
	if !ok {
		return nil
	}
	out := map[string]bool{}
	for _, b := range m.Globals {
		if !strings.HasPrefix(b.First.Name, "_") {
			out[b.First.Name] = true
		}
	}
	return out
}

// listNames formats names for a message, sorted, at most a dozen.
func listNames(format string, names map[string]bool) string {
	if len(names) == 0 {
		return ""
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	if len(list) > 12 {
		list = append(list[:12], "...")
	}
	return fmt.Sprintf(format, strings.Join(list, ", "))
}

// libraryHash identifies a library by content: its own text and, in
// order of module name, the hashes of the libraries it loads, so editing
// a library anywhere below changes it.
func libraryHash(lib *library) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "starflow library %d\n", len(lib.src))
	h.Write(lib.src)
	deps := make([]string, 0, len(lib.byModule))
	byName := map[string]*library{}
	for _, dep := range lib.byModule {
		if dep != nil && byName[dep.name] == nil {
			byName[dep.name] = dep
			deps = append(deps, dep.name)
		}
	}
	sort.Strings(deps)
	for _, name := range deps {
		fmt.Fprintf(h, "load %s\n", name)
		h.Write(byName[name].hash[:])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// loadUses finds, for each top-level def, the libraries whose loaded
// names it mentions. Loaded names are file-local in Starlark, so inside
// a def they resolve as free variables, not globals.
func loadUses(f *syntax.File) map[string][]string {
	loaded := map[*syntax.Ident]string{}
	for _, stmt := range f.Stmts {
		if ld, ok := stmt.(*syntax.LoadStmt); ok {
			for _, to := range ld.To {
				loaded[to] = ld.ModuleName()
			}
		}
	}
	if len(loaded) == 0 {
		return nil
	}
	uses := map[string][]string{}
	for _, stmt := range f.Stmts {
		def, ok := stmt.(*syntax.DefStmt)
		if !ok {
			continue
		}
		seen := map[string]bool{}
		syntax.Walk(def, func(n syntax.Node) bool {
			if id, ok := n.(*syntax.Ident); ok {
				if b, ok := id.Binding.(*resolve.Binding); ok && b.First != nil && loaded[b.First] != "" {
					seen[loaded[b.First]] = true
				}
			}
			return true
		})
		for m := range seen {
			uses[def.Name.Name] = append(uses[def.Name.Name], m)
		}
		sort.Strings(uses[def.Name.Name])
	}
	return uses
}
