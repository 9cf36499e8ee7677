package builtins

// MonitoringBuiltins lets the external tests add MonitoringHub to a
// script's names whatever the predeclared table holds.
var MonitoringBuiltins = monitoringBuiltins
