package server

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	vtlog "github.com/dolthub/vitess/go/vt/log"
	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Log formats a configuration may name.
var logFormats = map[string]bool{"console": true, "json": true}

// newLogger returns the server's logger: human-readable lines ("console")
// or one JSON object per line ("json") on w, from level up.
func newLogger(w io.Writer, level, format string) (*zap.Logger, error) {
	if level == "" {
		level = "info"
	}
	if format == "" {
		format = "console"
	}
	if !logLevels[level] {
		return nil, fmt.Errorf("server: log level %q is not one of debug, info, warn, error", level)
	}
	if !logFormats[format] {
		return nil, fmt.Errorf("server: log format %q is not one of console, json", format)
	}
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, err
	}
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	ec.TimeKey = "time"
	ec.EncodeDuration = zapcore.StringDurationEncoder
	var enc zapcore.Encoder
	if format == "json" {
		enc = zapcore.NewJSONEncoder(ec)
	} else {
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl)), nil
}

// bridgeEngineLogs sends go-mysql-server's own log lines (it logs through
// logrus) to log, at warn and error only: its info and debug lines repeat
// what the connection logger says, and carry query text.
func bridgeEngineLogs(log *zap.Logger) {
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.WarnLevel)
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(engineHook{log: log.With(zap.String("component", "engine"))})
	// The protocol layer (vitess) logs through replaceable functions: its
	// lines are about clients that went away, failed logins the connection
	// logger reports, reads ended by a shutdown: debug, except a caught
	// panic, which is an error.
	vt := log.With(zap.String("component", "protocol")).Sugar()
	vtlog.Info, vtlog.Infof = vt.Debug, vt.Debugf
	vtlog.Warning, vtlog.Warningf = vt.Debug, vt.Debugf
	vtlog.Error = vt.Debug
	vtlog.Errorf = func(format string, args ...any) {
		if strings.Contains(format, "panic") {
			vt.Errorf(format, args...)
		} else {
			vt.Debugf(format, args...)
		}
	}
}

type engineHook struct{ log *zap.Logger }

func (engineHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h engineHook) Fire(e *logrus.Entry) error {
	if e.Message == "error running query" {
		return nil // the connection logger reports failed statements
	}
	fields := make([]zap.Field, 0, len(e.Data))
	for k, v := range e.Data {
		if k == "errorVerbose" {
			continue // a stack trace
		}
		if k == "query" {
			// Query text is logged by the connection logger, redacted,
			// and only at debug.
			if !h.log.Core().Enabled(zapcore.DebugLevel) {
				continue
			}
			if s, ok := v.(string); ok {
				v = redactQuery(s)
			}
		}
		fields = append(fields, zap.Any(k, v))
	}
	if e.Level <= logrus.ErrorLevel {
		h.log.Error(e.Message, fields...)
	} else {
		h.log.Warn(e.Message, fields...)
	}
	return nil
}

// secretWords are what makes a statement's string literals secret.
var secretWords = regexp.MustCompile(`(?i)identified|password|secret|credential`)

// redactQuery returns query for a log line: whitespace runs become one
// space, and when the statement may carry a password (CREATE USER …
// IDENTIFIED BY 'pw', SET PASSWORD = '…', a backup's credentials) every
// string literal becomes '<redacted>'.
func redactQuery(query string) string {
	query = strings.Join(strings.Fields(query), " ")
	if !secretWords.MatchString(query) {
		return query
	}
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c != '\'' && c != '"' {
			b.WriteByte(c)
			continue
		}
		// Skip to the literal's closing quote: a doubled quote or a
		// backslash escape stays inside.
		j := i + 1
		for ; j < len(query); j++ {
			if query[j] == '\\' {
				j++
				continue
			}
			if query[j] == c {
				if j+1 < len(query) && query[j+1] == c {
					j++
					continue
				}
				break
			}
		}
		b.WriteString("'<redacted>'")
		i = j
	}
	return b.String()
}
