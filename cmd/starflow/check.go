package main

import (
	"errors"
	"fmt"

	"github.com/starflow-hpc/starflow/interp"
)

// checkCmd is `starflow check FILE`: Compile without the run.
type checkCmd struct {
	File    string   `arg:"" help:"Script to check (.star, or a Parsl .py)." placeholder:"FILE"`
	Verbose bool     `short:"v" help:"Also list, file by file, the decorators, imports and loads found and the libraries they lead to."`
	Lib     []string `name:"lib" sep:"none" help:"Root of the @NAME// libraries (repeatable); before STARFLOW_PATH (NAME=DIR:NAME2=DIR2)." placeholder:"NAME=DIR"`
}

func (c *checkCmd) Help() string {
	return `Parses, lowers and resolves FILE and every library it loads, as
'starflow run' would, without running anything: no task, no run folder,
no memo store. Each problem is printed on stdout as file:line:col: message,
every file's problems, not only the first file's.

Exit status:

  0    the script would run
  1    it would not: the problems are printed
  2    bad command line, or FILE cannot be read`
}

func (c *checkCmd) Run(g *globals) error {
	files, err := interp.Check(c.File, interp.WithLibs(c.Lib...))
	if c.Verbose {
		for i, f := range files {
			if i == 0 {
				fmt.Fprintf(g.stdout, "%s: script\n", f.File)
			} else {
				fmt.Fprintf(g.stdout, "%s: library %s", f.File, f.Module)
				if f.Hash != [32]byte{} {
					fmt.Fprintf(g.stdout, " sha256:%x", f.Hash[:6])
				}
				fmt.Fprintln(g.stdout)
			}
			for _, con := range f.Constructs {
				fmt.Fprintf(g.stdout, "%s: %s\n", con.Pos, con.What)
			}
		}
	}
	var ps interp.Problems
	switch {
	case errors.As(err, &ps):
		fmt.Fprintln(g.stdout, ps.Error())
		return &exitError{exitTaskFailed}
	case err != nil:
		fmt.Fprintln(g.stderr, interp.FormatError(err))
		return &exitError{exitUsage}
	}
	return nil
}
