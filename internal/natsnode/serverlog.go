package natsnode

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// serverLog routes the embedded nats-server's logs into slog. nats-server's
// own logger writes to stderr and exits the process on Fatalf; this one
// does neither: a fatal error is logged at error level and kept, so that
// Start can return it instead of a server that silently failed to start
// (nats-server calls Fatalf when JetStream or a listener cannot start, and
// carries on).
//
// Levels: notices are info while the server runs (routes made and lost,
// JetStream leader changes: what an operator follows when a cluster will
// not form) and debug during start-up and shutdown (a banner of some 15
// lines, which the node sums up in one); warnings are warn, errors and
// fatals error, debug debug. Trace (every protocol line) is never enabled.
type serverLog struct {
	logger  *slog.Logger
	running atomic.Bool // notices are info

	mu    sync.Mutex
	fatal error         // the first fatal error
	died  chan struct{} // closed at the first fatal error
}

func newServerLog(logger *slog.Logger) *serverLog {
	return &serverLog{logger: logger.With("nats", "server"), died: make(chan struct{})}
}

func (l *serverLog) log(level slog.Level, format string, v []any) {
	if l.logger.Enabled(context.Background(), level) {
		l.logger.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}

// Noticef logs a notice: at info level while the server runs, else debug.
func (l *serverLog) Noticef(format string, v ...any) {
	level := slog.LevelDebug
	if l.running.Load() {
		level = slog.LevelInfo
	}
	l.log(level, format, v)
}

// Warnf logs a warning.
func (l *serverLog) Warnf(format string, v ...any) { l.log(slog.LevelWarn, format, v) }

// Errorf logs an error.
func (l *serverLog) Errorf(format string, v ...any) { l.log(slog.LevelError, format, v) }

// Debugf logs at debug level.
func (l *serverLog) Debugf(format string, v ...any) { l.log(slog.LevelDebug, format, v) }

// Tracef is never called (trace is off) and logs nothing.
func (l *serverLog) Tracef(string, ...any) {}

// Fatalf logs at error level and records the first fatal error, where
// nats-server's own logger would exit the process.
func (l *serverLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.logger.Error(msg, "fatal", true)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal == nil {
		l.fatal = fmt.Errorf("nats-server: %s", msg)
		close(l.died)
	}
}

// err returns the first fatal error, or nil.
func (l *serverLog) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}
