package mpi

import (
	"fmt"
	"strconv"
	"strings"
)

// maxHosts bounds what one hostlist may expand to, so a typo such as
// n[1-100000000] is an error rather than a worker that eats its memory.
const maxHosts = 1 << 20

// ExpandHostlist expands a Slurm hostlist such as "n[1-3],gpu[01-02,07]"
// into node names, in order, as `scontrol show hostnames` would. A name
// may carry several bracket groups ("r[1-2]n[1-2]" is r1n1, r1n2, r2n1,
// r2n2); a range keeps the zero padding of its lower bound ("[08-10]" is
// 08, 09, 10). Starflow parses it itself so that a worker needs no
// scontrol on the node it runs on.
func ExpandHostlist(s string) ([]string, error) {
	var out []string
	for _, name := range splitTop(s) {
		if name == "" {
			continue
		}
		hosts, err := expandName(name)
		if err != nil {
			return nil, fmt.Errorf("hostlist %q: %w", s, err)
		}
		if len(out)+len(hosts) > maxHosts {
			return nil, fmt.Errorf("hostlist %q: more than %d hosts", s, maxHosts)
		}
		out = append(out, hosts...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hostlist %q names no host", s)
	}
	return out, nil
}

// splitTop splits at the commas that are outside brackets.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// expandName expands one name with zero or more bracket groups.
func expandName(name string) ([]string, error) {
	open := strings.IndexByte(name, '[')
	if open < 0 {
		if strings.ContainsRune(name, ']') {
			return nil, fmt.Errorf("%q has a ] without [", name)
		}
		return []string{name}, nil
	}
	end := strings.IndexByte(name[open:], ']')
	if end < 0 {
		return nil, fmt.Errorf("%q has an unclosed [", name)
	}
	end += open
	prefix, group, rest := name[:open], name[open+1:end], name[end+1:]
	if strings.ContainsRune(prefix, ']') || strings.ContainsRune(group, '[') {
		return nil, fmt.Errorf("%q has unbalanced brackets", name)
	}
	values, err := expandGroup(group)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, err)
	}
	tails, err := expandName(rest)
	if err != nil {
		return nil, err
	}
	if len(values)*len(tails) > maxHosts {
		return nil, fmt.Errorf("%q: more than %d hosts", name, maxHosts)
	}
	out := make([]string, 0, len(values)*len(tails))
	for _, v := range values {
		for _, t := range tails {
			out = append(out, prefix+v+t)
		}
	}
	return out, nil
}

// expandGroup expands the inside of brackets: "1-3,7,08-10".
func expandGroup(group string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(group, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 63)
		b, err2 := strconv.ParseUint(hi, 10, 63)
		if lo == "" || hi == "" || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("[%s]: %q is not a number or a range like 1-3", group, part)
		}
		if b < a {
			return nil, fmt.Errorf("[%s]: range %q runs backwards", group, part)
		}
		if b-a >= maxHosts || len(out)+int(b-a) >= maxHosts {
			return nil, fmt.Errorf("[%s]: more than %d hosts", group, maxHosts)
		}
		width := len(lo) // "08" pads to two digits
		for v := a; v <= b; v++ {
			s := strconv.FormatUint(v, 10)
			if len(s) < width {
				s = strings.Repeat("0", width-len(s)) + s
			}
			out = append(out, s)
		}
	}
	return out, nil
}
