package main

import "errors"

// checkCmd is `starflow check FILE` (issue 3).
type checkCmd struct {
	File    string `arg:"" help:"Script to check." placeholder:"FILE"`
	Verbose bool   `short:"v" help:"Also print each construct that was lowered."`
}

func (c *checkCmd) Run(g *globals) error { return errors.New("check: not implemented yet") }
