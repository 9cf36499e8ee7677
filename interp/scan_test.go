package interp

import (
	"fmt"
	"strings"
	"testing"
)

// starts renders findStarts' result as "kind@line:col" for comparison.
func starts(src string) string {
	var out []string
	for _, s := range findStarts([]byte(src)) {
		kind := [...]string{"@", "import", "from"}[s.kind]
		out = append(out, fmt.Sprintf("%s@%d:%d", kind, s.pos.line, s.pos.col))
	}
	return strings.Join(out, " ")
}

func TestFindStarts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"none", "x = 1\n", ""},
		{"decorator", "@python_app\ndef f():\n    pass\n", "@@1:1"},
		{"called decorator over lines", "@python_app(\n    executors=['cpu'])\ndef f(): pass\n", "@@1:1"},
		{"nested decorator", "def g():\n    @python_app\n    def f(): pass\n", "@@2:5"},
		{"tab indent counts one column", "if x:\n\t@a\n\tdef f(): pass\n", "@@2:2"},
		{"matmul is not a decorator", "x = a @ b\n", ""},
		{"inside brackets", "x = [\n@a\n]\n", ""},
		{"after continuation", "x = 1 + \\\n@a\n", ""},
		{"in string", "x = '@a'\ny = \"import os\"\n", ""},
		{"in triple string", "x = '''\n@a\nimport os\n'''\n@b\n", "@@5:1"},
		{"escaped quote in triple string", "x = \"\"\"a \" \"\" \\\"\"\"\"\n@b\n", "@@2:1"},
		{"unterminated triple string", "x = \"\"\"a\n@b\n", ""},
		{"raw string with escaped quote", "x = r'\\'' \n@b\n", "@@2:1"},
		{"prefixed strings", "x = rb'@' + f\"{y}\" + U'x'\nimport os\n", "import@2:1"},
		{"in comment", "# @a\n#import os\nx = 1 # import os\n", ""},
		{"import forms", "import os\nfrom a.b import c\n", "import@1:1 from@2:1"},
		{"after semicolon and colon", "x = 1; import os\nif x: from m import y\n", "import@1:8 from@2:7"},
		{"not a keyword prefix", "importer = 1\nfromage = 2\nx.import_\n", ""},
		{"import inside parens ignored", "from m import (a,\n import_b)\n", "from@1:1"},
		{"unicode columns", "s = 'héllo'; import os\n", "import@1:14"},
		{"crlf lines", "x = 1\r\n@a\r\ndef f(): pass\r\nimport os\r\n", "@@2:1 import@4:1"},
		{"lone cr lines", "x = 1\r@a\r", "@@2:1"},
		{"unterminated string ends at line", "x = 'abc\n@a\n", "@@2:1"},
		{"unbalanced close", ")\n@a\n", "@@2:1"},
		{"decorator after semicolon is not one", "x = 1; @a\n", ""},
		{"dunder main", "if __name__ == \"__main__\":\n    main()\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := starts(tc.src); got != tc.want {
				t.Errorf("findStarts(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

// imports renders parseImport's result compactly: "from m: a as b, c" or
// "import a.b as c, d", each name with line:col, plus the blanked span.
func renderImport(imp *importStmt, src string) string {
	var b strings.Builder
	if imp.module != nil {
		fmt.Fprintf(&b, "from %s@%d:%d:", imp.module.name, imp.module.pos.line, imp.module.pos.col)
	} else {
		b.WriteString("import:")
	}
	if imp.star {
		b.WriteString(" *")
	}
	for i, a := range imp.names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s@%d:%d", a.name, a.pos.line, a.pos.col)
		if a.alias != nil {
			fmt.Fprintf(&b, " as %s@%d:%d", a.alias.name, a.alias.pos.line, a.alias.pos.col)
		}
	}
	fmt.Fprintf(&b, " [%q]", src[imp.pos.off:imp.end])
	return b.String()
}

func TestParseImport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, want string
	}{
		{"plain", "import os\n", `import: os@1:8 ["import os"]`},
		{"dotted alias list", "import a.b.c, d as e  # why\n",
			`import: a.b.c@1:8, d@1:15 as e@1:20 ["import a.b.c, d as e"]`},
		{"from", "from parsl.config import Config\n",
			`from parsl.config@1:6: Config@1:26 ["from parsl.config import Config"]`},
		{"from alias", "from m import x as y, z;w=1\n", `from m@1:6: x@1:15 as y@1:20, z@1:23 ["from m import x as y, z"]`},
		{"star", "from parsl import *\n", `from parsl@1:6: * ["from parsl import *"]`},
		{"parenthesised over lines", "from m import (a,  # first\n    b as c,\n)\nx = 1\n",
			`from m@1:6: a@1:16, b@2:5 as c@2:10 ["from m import (a,  # first\n    b as c,\n)"]`},
		{"backslash continuation", "import a, \\\n  b\n", `import: a@1:8, b@2:3 ["import a, \\\n  b"]`},
		{"spaces around dots", "import a . b\n", `import: a.b@1:8 ["import a . b"]`},
		{"at end of file", "import os", `import: os@1:8 ["import os"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ss := findStarts([]byte(tc.src))
			if len(ss) == 0 {
				t.Fatalf("no import found in %q", tc.src)
			}
			imp, err := parseImport([]byte(tc.src), ss[0])
			if err != nil {
				t.Fatalf("parseImport(%q): %d:%d: %s", tc.src, err.pos.line, err.pos.col, err.msg)
			}
			if got := renderImport(imp, tc.src); got != tc.want {
				t.Errorf("parseImport(%q)\n got %s\nwant %s", tc.src, got, tc.want)
			}
		})
	}
}

func TestParseImportErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src, want string
	}{
		{"import\n", `1:7: got end of statement, want module name`},
		{"import os,\n", `1:11: got end of statement, want module name`},
		{"import a.\n", `1:10: got end of statement, want module name after "."`},
		{"import os as\n", `1:13: got end of statement, want name after "as"`},
		{"import os as 3\n", `1:14: got "3", want name after "as"`},
		{"import os.path as if\n", `1:19: got "if", want name after "as"`},
		{"from . import x\n", `1:6: relative imports are not supported; use load("./file.star", "name") for a Starlark file`},
		{"from m x\n", `1:8: got "x", want "import"`},
		{"from m import\n", `1:14: got end of statement, want name to import`},
		{"from m import a,\n", `1:17: got end of statement, want name to import`},
		{"from m import (a\nb)\n", `2:1: got "b", want "," or ")"`},
		{"from m import (a,\n", `2:1: got end of statement, want name to import`},
		{"import os.path()\n", `1:15: got "(", want end of import statement`},
		{"from m import a b\n", `1:17: got "b", want end of import statement`},
	} {
		ss := findStarts([]byte(tc.src))
		if len(ss) == 0 {
			t.Errorf("no import found in %q", tc.src)
			continue
		}
		_, err := parseImport([]byte(tc.src), ss[0])
		if err == nil {
			t.Errorf("parseImport(%q) succeeded, want error %s", tc.src, tc.want)
			continue
		}
		if got := fmt.Sprintf("%d:%d: %s", err.pos.line, err.pos.col, err.msg); got != tc.want {
			t.Errorf("parseImport(%q)\n got %s\nwant %s", tc.src, got, tc.want)
		}
	}
}

func TestAppendBlanked(t *testing.T) {
	t.Parallel()
	got := string(appendBlanked(nil, []byte("ab\r\nçd\n\te")))
	if want := "  \r\n  \n  "; got != want {
		t.Errorf("appendBlanked = %q, want %q", got, want)
	}
}
