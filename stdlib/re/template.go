package re

import (
	"strconv"
	"strings"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// template is a parsed replacement string: literal text and group
// references, in order.
type template struct {
	parts []templatePart
}

type templatePart struct {
	lit   string
	group int // -1 for literal text
}

// parseTemplate parses a Python replacement string: \1 to \99, \g<1>,
// \g<name>, \\, \n and the other escapes; a backslash before anything
// else that is not an ASCII letter stays as written.
func parseTemplate(op, repl string, p *Pattern) (*template, error) {
	t := &template{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	ngroups := p.main.NumSubexp()
	addGroup := func(g int, at int) error {
		if g < 0 || g > ngroups {
			return pyerr.New("error", op, "invalid group reference %d at position %d", g, at)
		}
		flush()
		t.parts = append(t.parts, templatePart{group: g})
		return nil
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 == len(repl) {
			lit.WriteByte(c)
			continue
		}
		i++
		switch d := repl[i]; {
		case d == 'g':
			end := strings.IndexByte(repl[i:], '>')
			if i+1 >= len(repl) || repl[i+1] != '<' || end < 0 {
				return nil, pyerr.New("error", op, "missing < or > in \\g reference at position %d", i-1)
			}
			name := repl[i+2 : i+end]
			g, err := strconv.Atoi(name)
			if err != nil {
				if g = p.main.SubexpIndex(name); g < 0 {
					return nil, pyerr.New("IndexError", op, "unknown group name %s", pyerr.Repr(name))
				}
			}
			if err := addGroup(g, i-1); err != nil {
				return nil, err
			}
			i += end
		case d >= '0' && d <= '9':
			j := i + 1
			if j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			g, _ := strconv.Atoi(repl[i:j])
			if d == '0' {
				lit.WriteByte(0) // \0 is a NUL, as an octal escape
				continue
			}
			if err := addGroup(g, i-1); err != nil {
				return nil, err
			}
			i = j - 1
		default:
			if s, ok := simpleEscape(d); ok {
				lit.WriteString(s)
			} else if d < 128 && (d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z') {
				return nil, pyerr.New("error", op, "bad escape \\%c at position %d", d, i-1)
			} else {
				lit.WriteByte('\\')
				lit.WriteByte(d)
			}
		}
	}
	flush()
	return t, nil
}

func simpleEscape(c byte) (string, bool) {
	switch c {
	case 'n':
		return "\n", true
	case 't':
		return "\t", true
	case 'r':
		return "\r", true
	case 'f':
		return "\f", true
	case 'v':
		return "\v", true
	case 'a':
		return "\a", true
	case 'b':
		return "\b", true
	case '\\':
		return "\\", true
	}
	return "", false
}

// expand fills the template in for one match of s.
func (t *template) expand(s string, idx []int) string {
	var b strings.Builder
	for _, part := range t.parts {
		if part.group < 0 {
			b.WriteString(part.lit)
		} else {
			b.WriteString(string(group(s, idx, part.group)))
		}
	}
	return b.String()
}
