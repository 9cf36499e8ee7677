package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"runtime/debug"
	"strconv"
	texttemplate "text/template"

	"github.com/hashicorp/go-hclog"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configure a Server.
type Options struct {
	// RunInfo is the folder whose numbered subfolders are runs.
	RunInfo string
	// Logger hears of requests (DEBUG) and of internal errors; nil is
	// silent.
	Logger hclog.Logger
}

// Server is the dashboard's http.Handler.
type Server struct {
	root   string
	log    hclog.Logger
	tmpl   *template.Template
	dbs    *runDBs
	charts *runCache[*runCharts] // a run's charts are some hundred KB
	counts *runCache[stateCounts]
	mux    *http.ServeMux
}

// New makes the dashboard for the runs under opts.RunInfo. Nothing is
// opened until a page asks for it, so a runinfo folder that does not
// exist yet, or has no runs, is a page that says so.
func New(opts Options) (*Server, error) {
	tmpl, err := template.New("").Funcs(templateFuncs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("visualize: parse templates: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	s := &Server{
		root:   opts.RunInfo,
		log:    log,
		tmpl:   tmpl,
		dbs:    &runDBs{root: opts.RunInfo, dbs: map[string]openDB{}},
		charts: newRunCache[*runCharts](16),
		counts: newRunCache[stateCounts](runsLimit),
		mux:    http.NewServeMux(),
	}
	assets, _ := fs.Sub(assetFS, "assets")
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	s.mux.HandleFunc("GET /{$}", s.runsPage)
	s.mux.HandleFunc("GET /runs/{run}/{$}", s.runPage)
	s.mux.HandleFunc("GET /runs/{run}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("GET /runs/{run}/tasks", s.tasksPage)
	s.mux.HandleFunc("GET /runs/{run}/tasks/{task}", s.taskPage)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.problem(w, &problem{http.StatusNotFound, "Page not found", fmt.Sprintf("There is no page at %s.", r.URL.Path)})
	})
	return s, nil
}

// Close closes the run databases the server opened.
func (s *Server) Close() error { return s.dbs.close() }

// ServeHTTP serves the dashboard. A panic is a bug in the dashboard: the
// user gets a short page, the log gets the stack.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("dashboard page failed", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !tw.wrote {
				s.problem(tw, &problem{http.StatusInternalServerError, "The dashboard failed",
					"This page hit a bug in starflow visualize; the server log has the details."})
			}
		}
	}()
	s.log.Debug("request", "method", r.Method, "path", r.URL.Path)
	s.mux.ServeHTTP(tw, r)
}

// cacheAssets lets browsers keep the CSS and script for the session: they
// change only with the binary.
func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		h.ServeHTTP(w, r)
	})
}

// trackingWriter remembers whether the response has started, so an error
// after the first byte is reported inside the page rather than as a
// second, ignored status line.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush sends what the page has so far: the browser starts drawing the
// header while the sections' queries run.
func (w *trackingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wrote = true
		f.Flush()
	}
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// problemPage is the data of the problem template.
type problemPage struct {
	pageBase
	Status int
	Detail string
}

// problem writes a whole page that says what is wrong, with its status.
func (s *Server) problem(w http.ResponseWriter, p *problem) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.status)
	s.render(w, "problem", problemPage{pageBase{Title: p.title, RunInfo: s.root}, p.status, p.detail})
}

// fail reports err on a page that has not started: a *problem as itself,
// a cancelled request not at all, anything else as a failed read.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem
	switch {
	case errors.As(err, &p):
	case r.Context().Err() != nil:
		return
	default:
		s.log.Error("dashboard query failed", "path", r.URL.Path, "error", err)
		p = &problem{http.StatusInternalServerError, "Cannot read the monitoring database", err.Error()}
	}
	s.problem(w, p)
}

// render executes one template. A template error is a bug, logged; any
// other error is a write to a browser that went away.
func (s *Server) render(w http.ResponseWriter, name string, data any) {
	err := s.tmpl.ExecuteTemplate(w, name, data)
	var te texttemplate.ExecError
	var he *template.Error
	switch {
	case errors.As(err, &te), errors.As(err, &he):
		s.log.Error("render page", "template", name, "error", err)
	case err != nil:
		s.log.Debug("write page", "template", name, "error", err)
	}
}

// pageBase is what every page's layout needs.
type pageBase struct {
	Title   string
	RunInfo string
	RunID   string // the run the page belongs to, for the breadcrumb
	Refresh bool   // the page shows a run still going: offer live reload
}

// parseID reads a task id from a path segment.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id >= 0
}
