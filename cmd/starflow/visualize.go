package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/starflow-hpc/starflow/monitoring/web"
)

// visualizeCmd serves the monitoring dashboard (issue 7).
type visualizeCmd struct {
	Runinfo string `help:"Folder holding the run folders (NNN/); default: ${default}." default:"runinfo" placeholder:"DIR"`
	Listen  string `help:"Address to serve on; default: ${default}, which only this machine can reach." default:"127.0.0.1:8080" placeholder:"HOST:PORT"`
}

func (v *visualizeCmd) Help() string {
	return `Serves a web dashboard of the runs under runinfo/: for each run recorded
with monitoring on (Config(monitoring=MonitoringHub())), its tasks by state,
a timeline of tries per worker, tasks by state over time, run times per app,
and the failures with their errors and log paths; for each task, its tries,
dependencies and resource samples. Everything is served by this binary:
the dashboard needs no internet and no Python.

The dashboard listens on 127.0.0.1 unless --listen says otherwise, and has
no password: anyone who can reach the address can read the runs. Ctrl-C
stops it.

Examples:

  starflow visualize
  starflow visualize --runinfo /scratch/me/sweep/runinfo --listen 127.0.0.1:9000
  ssh -L 8080:127.0.0.1:8080 login-node   # then open http://127.0.0.1:8080/ here`
}

func (v *visualizeCmd) Run(g *globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return v.serve(ctx, g.stdout, g.stderr, nil)
}

// serve runs the dashboard until ctx ends. ready, when set, hears the
// dashboard's URL once it accepts connections (tests use it with port 0).
func (v *visualizeCmd) serve(ctx context.Context, stdout, stderr io.Writer, ready func(url string)) error {
	host, err := checkListen(v.Listen)
	if err != nil {
		return err
	}
	fi, err := os.Stat(v.Runinfo)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--runinfo: no folder %s: run a script with `starflow run` first, or name the folder that holds its runs", v.Runinfo)
	case err != nil:
		return fmt.Errorf("--runinfo %s: %w", v.Runinfo, err)
	case !fi.IsDir():
		return fmt.Errorf("--runinfo %s: not a folder", v.Runinfo)
	}
	ln, err := net.Listen("tcp", v.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", v.Listen, err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "starflow.visualize", Level: hclog.Warn, Output: stderr})
	dash, err := web.New(web.Options{RunInfo: v.Runinfo, Logger: logger})
	if err != nil {
		ln.Close()
		return err
	}
	defer dash.Close()
	srv := &http.Server{
		Handler:           dash,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	url := dashboardURL(ln.Addr().(*net.TCPAddr), host)
	fmt.Fprintf(stdout, "starflow visualize: the runs in %s at %s\n", v.Runinfo, url)
	if ids, err := web.RunIDs(v.Runinfo); err == nil && len(ids) == 0 {
		fmt.Fprintf(stdout, "There are no runs in %s yet: they appear as they are recorded.\n", v.Runinfo)
	}
	if isLoopback(host) {
		fmt.Fprintf(stdout, "Only this machine can connect (%s). Ctrl-C stops.\n", host)
	} else {
		fmt.Fprintf(stdout, "Listening on %s: anyone who can reach this machine on port %d can read these runs (there is no password). Ctrl-C stops.\n",
			v.Listen, ln.Addr().(*net.TCPAddr).Port)
	}
	if ready != nil {
		ready(url)
	}

	select {
	case err := <-served:
		return fmt.Errorf("visualize: %w", err)
	case <-ctx.Done():
	}
	// Pages stream their sections: give those in flight a moment, then go.
	shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	fmt.Fprintln(stdout, "starflow visualize: stopped")
	return nil
}

// checkListen validates --listen and returns its host.
func checkListen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--listen %q: want HOST:PORT, such as 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every network)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("--listen %q: port %q is not a number from 0 to 65535", addr, port)
	}
	return host, nil
}

// isLoopback says whether host reaches this machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dashboardURL is the address to open: the one listened on, or for a
// wildcard (0.0.0.0, ::, no host) this machine's name, since the
// wildcard itself is not an address a browser can use.
func dashboardURL(addr *net.TCPAddr, host string) string {
	h := host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		h, _ = os.Hostname()
		if h == "" {
			h = "localhost"
		}
	}
	return "http://" + net.JoinHostPort(h, strconv.Itoa(addr.Port)) + "/"
}
