package examples_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTEXLocal(t *testing.T) {
	t.Parallel()
	out, dir := runExample(t, "htex_local.star")
	want := "sum of squares: 285\nsum of squares: 285\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	script := filepath.Join(dir, "runinfo", "000", "submit_scripts", "local_htex.block-0.sh")
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatalf("the block's script: %v", err)
	}
	if !strings.Contains(string(b), " worker ") {
		t.Errorf("the block does not run `starflow worker`:\n%s", b)
	}
}
