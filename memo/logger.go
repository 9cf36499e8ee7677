package memo

import (
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// badgerLogger hands Badger's printf-style logging to hclog. Badger logs
// every compaction and table flush at INFO, which is noise to a workflow
// user, so INFO becomes DEBUG here.
type badgerLogger struct{ l hclog.Logger }

var _ badger.Logger = badgerLogger{}

func msg(format string, args []any) string {
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(msg(f, a)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(msg(f, a)) }
func (b badgerLogger) Infof(f string, a ...any) {
	if b.l.IsDebug() {
		b.l.Debug(msg(f, a))
	}
}
func (b badgerLogger) Debugf(f string, a ...any) {
	if b.l.IsTrace() {
		b.l.Trace(msg(f, a))
	}
}
