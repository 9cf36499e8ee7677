// Package star holds the Starlark libraries that ship inside the starflow
// binary, which scripts load as "@stdlib//NAME" (for example
// load("@stdlib//sweep.star", "grid")). They are plain Starlark, compiled
// and frozen like any other library, so a script can read them to see
// what they do.
package star

import (
	"embed"
	"io/fs"
)

//go:embed *.star
var files embed.FS

// FS returns the libraries, each a file at the root ("sweep.star").
func FS() fs.FS { return files }
