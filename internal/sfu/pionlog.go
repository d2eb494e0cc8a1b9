package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/logging"
)

// pionLogs gives pion's PeerConnections the SFU's logger: one logger per
// scope ("ice", "dtls", ...) for the whole SFU, where pion's own factory
// makes five for every scope of every PeerConnection (about 8 KB each).
// Pion's errors are logged as warnings, since what it calls an error is
// most often one peer's connection ending; its warnings, information and
// traces as debug.
type pionLogs struct {
	log    *slog.Logger
	scopes sync.Map // scope → *pionLogger
}

// NewLogger returns the logger of scope.
func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	if l, ok := f.scopes.Load(scope); ok {
		return l.(*pionLogger)
	}
	l, _ := f.scopes.LoadOrStore(scope, &pionLogger{log: f.log.With("pion", scope)})
	return l.(*pionLogger)
}

// pionLogger is pion's leveled logger over slog.
type pionLogger struct{ log *slog.Logger }

func (l *pionLogger) logf(level slog.Level, format string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

// Trace logs at debug level.
func (l *pionLogger) Trace(msg string) { l.logf(slog.LevelDebug, "%s", msg) }

// Tracef logs at debug level.
func (l *pionLogger) Tracef(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }

// Debug logs at debug level.
func (l *pionLogger) Debug(msg string) { l.logf(slog.LevelDebug, "%s", msg) }

// Debugf logs at debug level.
func (l *pionLogger) Debugf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }

// Info logs at debug level.
func (l *pionLogger) Info(msg string) { l.logf(slog.LevelDebug, "%s", msg) }

// Infof logs at debug level.
func (l *pionLogger) Infof(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }

// Warn logs at debug level.
func (l *pionLogger) Warn(msg string) { l.logf(slog.LevelDebug, "%s", msg) }

// Warnf logs at debug level.
func (l *pionLogger) Warnf(format string, args ...any) { l.logf(slog.LevelDebug, format, args...) }

// Error logs at warning level.
func (l *pionLogger) Error(msg string) { l.logf(slog.LevelWarn, "%s", msg) }

// Errorf logs at warning level.
func (l *pionLogger) Errorf(format string, args ...any) { l.logf(slog.LevelWarn, format, args...) }
