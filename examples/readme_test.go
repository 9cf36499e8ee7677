package examples_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fence matches a fenced block and the one right after it, if any:
// a ```starlark block followed by a ```text block is a snippet and the
// output it must print.
var fence = regexp.MustCompile("(?s)```starlark\n(.*?)```\\s*(?:```text\n(.*?)```)?")

// TestReadme runs every Starlark snippet of the README, as the README
// promises, and checks its printed output where the README shows it.
func TestReadme(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("make test")) {
		t.Error("README does not show the test command `make test`")
	}
	snippets := fence.FindAllSubmatch(readme, -1)
	if len(snippets) == 0 {
		t.Fatal("README has no ```starlark snippets")
	}
	for i, s := range snippets {
		t.Run("snippet"+strconv.Itoa(i+1), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "snippet.star"), s[1], 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(starflow, "run", "snippet.star")
			cmd.Dir = dir
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("snippet %d: %v\n%s\nstderr:\n%s", i+1, err, s[1], errb.String())
			}
			if want := s[2]; want != nil && out.String() != string(want) {
				t.Errorf("snippet %d printed:\n%s\nREADME says:\n%s", i+1, out.String(), want)
			}
			if strings.TrimSpace(errb.String()) != "" {
				t.Errorf("snippet %d wrote to stderr:\n%s", i+1, errb.String())
			}
		})
	}
}
