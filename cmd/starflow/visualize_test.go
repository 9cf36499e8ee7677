package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/starflow-hpc/starflow/monitoring"
)

// visualizeRun makes dir/NNN/monitoring.db holding a run of one task.
func visualizeRun(t *testing.T, dir, id string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, id, monitoring.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := monitoring.Create(ctx, db, true); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`INSERT INTO workflow VALUES ('r1', 'hello.star', NULL, '2026-01-02 03:04:05.000000', '2026-01-02 03:04:07.000000', 'h', 'u', 'runinfo/000', 0, 1);
		INSERT INTO task (task_id, run_id, task_func_name, task_status_name, task_memoize, task_time_invoked, task_time_returned)
		VALUES (0, 'r1', 'greet', 'exec_done', '0', '2026-01-02 03:04:05.500000', '2026-01-02 03:04:06.000000')`)
	if err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is an io.Writer the server goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestVisualizeServe runs the command's server in this process: it says
// where it listens and that it is local, serves the runs, and stops when
// its context ends (Ctrl-C in the real command).
func TestVisualizeServe(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "runinfo")
	visualizeRun(t, dir, "000")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	cmd := &visualizeCmd{Runinfo: dir, Listen: "127.0.0.1:0"}
	go func() { done <- cmd.serve(ctx, &stdout, &stderr, func(u string) { urls <- u }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("serve ended before it listened: %v\n%s", err, stderr.String())
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Errorf("URL %q, want http://127.0.0.1:PORT/", url)
	}
	out := stdout.String()
	for _, want := range []string{"starflow visualize: the runs in " + dir + " at " + url, "Only this machine can connect (127.0.0.1). Ctrl-C stops."} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	status, body := httpGet(t, url)
	if status != 200 || !strings.Contains(body, "hello.star") {
		t.Errorf("GET /: %d\n%s", status, body)
	}
	status, body = httpGet(t, url+"runs/000/")
	if status != 200 || !strings.Contains(body, "greet") {
		t.Errorf("GET /runs/000/: %d\n%s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
	if !strings.Contains(stdout.String(), "starflow visualize: stopped") {
		t.Errorf("stdout lacks the stop:\n%s", stdout.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("the server still answers after it stopped")
	}
}

func TestVisualizeBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		runinfo, listen, want string
	}{
		{filepath.Join(dir, "nowhere"), "127.0.0.1:0", "--runinfo: no folder " + filepath.Join(dir, "nowhere") + ": run a script with `starflow run` first, or name the folder that holds its runs"},
		{file, "127.0.0.1:0", "--runinfo " + file + ": not a folder"},
		{dir, "8080", `--listen "8080": want HOST:PORT, such as 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every network)`},
		{dir, "127.0.0.1:http", `--listen "127.0.0.1:http": port "http" is not a number from 0 to 65535`},
		{dir, "127.0.0.1:70000", `port "70000" is not a number from 0 to 65535`},
		{dir, busy.Addr().String(), "--listen " + busy.Addr().String() + ": listen tcp " + busy.Addr().String() + ": bind: address already in use"},
	} {
		cmd := &visualizeCmd{Runinfo: tc.runinfo, Listen: tc.listen}
		var out bytes.Buffer
		err := cmd.serve(context.Background(), &out, &out, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--runinfo %s --listen %s: error %v, want %q", tc.runinfo, tc.listen, err, tc.want)
		}
	}
}

func TestVisualizeAddresses(t *testing.T) {
	t.Parallel()
	host, _ := os.Hostname()
	for _, tc := range []struct {
		host  string
		local bool
		url   string
	}{
		{"127.0.0.1", true, "http://127.0.0.1:8080/"},
		{"localhost", true, "http://localhost:8080/"},
		{"::1", true, "http://[::1]:8080/"},
		{"0.0.0.0", false, "http://" + host + ":8080/"},
		{"", false, "http://" + host + ":8080/"},
		{"10.1.2.3", false, "http://10.1.2.3:8080/"},
	} {
		if got := isLoopback(tc.host); got != tc.local {
			t.Errorf("isLoopback(%q) = %v", tc.host, got)
		}
		if got := dashboardURL(&net.TCPAddr{Port: 8080}, tc.host); got != tc.url {
			t.Errorf("dashboardURL(%q) = %s, want %s", tc.host, got, tc.url)
		}
	}
}

// TestVisualizeNoRuns: an empty runinfo folder is served, and said to
// be empty.
func TestVisualizeNoRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout syncBuffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	cmd := &visualizeCmd{Runinfo: dir, Listen: "127.0.0.1:0"}
	go func() { done <- cmd.serve(ctx, &stdout, io.Discard, func(u string) { urls <- u }) }()
	select {
	case url := <-urls:
		if status, body := httpGet(t, url); status != 200 || !strings.Contains(body, "No runs in") {
			t.Errorf("GET /: %d\n%s", status, body)
		}
	case err := <-done:
		t.Fatalf("serve ended before it listened: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "There are no runs in " + dir + " yet: they appear as they are recorded."; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
}

// TestVisualizeProcess runs the real command and stops it as a user
// does, with Ctrl-C (SIGINT): it exits 0.
func TestVisualizeProcess(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "runinfo")
	visualizeRun(t, dir, "000")
	cmd := exec.Command(starflowBinary(t), "visualize", "--runinfo", dir, "--listen", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		cmd.Wait()
		t.Fatalf("no output from starflow visualize; stderr:\n%s", stderr.String())
	}
	m := regexp.MustCompile(` at (http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("first line %q does not give the URL", lines.Text())
	}
	if status, body := httpGet(t, m[1]); status != 200 || !strings.Contains(body, "hello.star") {
		t.Errorf("GET %s: %d\n%s", m[1], status, body)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGINT: %v; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(string(rest), "starflow visualize: stopped") {
		t.Errorf("stdout after SIGINT: %q", rest)
	}
}
