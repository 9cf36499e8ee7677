// Package web serves the `starflow visualize` dashboard: the runs under a
// runinfo folder, and per run its tasks, timeline, failures and run times,
// read from each run's monitoring.db. Pages are rendered on the server
// (html/template, inline SVG) from SQL aggregates, so a run of 100,000
// tasks costs the browser no more than a run of ten; the CSS and script
// are embedded in the binary, so it works with no internet.
package web
