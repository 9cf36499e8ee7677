// Package startest splits the testdata/*.star files of script tests, in
// the manner of go.starlark.net's eval_test: a file is cut into chunks at
// "---" lines, each run on its own, and a line ending in
//
//	### error: PATTERN
//
// marks where the chunk must stop with an error matching PATTERN. What a
// chunk runs in (bare Starlark, a starflow session) and how PATTERN reads
// is the calling test's business.
package startest

import (
	"regexp"
	"strings"
)

// Chunk is one script of a file, padded with blank lines so that its line
// numbers are the file's.
type Chunk struct {
	File string
	Src  string
	Line int // the chunk's first line
	// WantErr maps a line to the PATTERN its "### error:" mark gives.
	WantErr map[int]string
}

var errorMark = regexp.MustCompile(`###\s*error:\s*(.*)$`)

// Split cuts src, the content of file, into its chunks.
func Split(file, src string) []Chunk {
	var chunks []Chunk
	lines := strings.SplitAfter(src, "\n")
	start := 0
	flush := func(end int) {
		c := Chunk{File: file, Line: start + 1, WantErr: map[int]string{}}
		var b strings.Builder
		b.WriteString(strings.Repeat("\n", start))
		for i := start; i < end; i++ {
			b.WriteString(lines[i])
			if m := errorMark.FindStringSubmatch(strings.TrimRight(lines[i], "\r\n")); m != nil {
				c.WantErr[i+1] = strings.TrimSpace(m[1])
			}
		}
		c.Src = b.String()
		chunks = append(chunks, c)
	}
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "---" {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return chunks
}
