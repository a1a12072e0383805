package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// logging is the log of one run of a link command. Its Logger writes, at
// info level or at debug level with the debug option:
//
//   - to standard error, one line per record in the form pppd writes to
//     its terminal: the message, then the record's attributes as
//     key=value; warnings and errors start with "warning: " and "error: ".
//     The link's packet traces come out exactly as pppd's debug option
//     prints them: "sent [LCP ConfReq id=0x1 <magic 0x5e3f2a10>]";
//   - to the logfile, if one is given, the same lines behind a timestamp;
//   - after updetach has put the process in the background, to syslog
//     (daemon facility, tagged with the program's name) instead of
//     standard error, as pppd does, if a syslog daemon listens.
//
// With --log-format json every destination gets one JSON object per record
// instead (slog's JSON form: time, level, msg and the attributes).
type logging struct {
	Logger *slog.Logger
	level  *slog.LevelVar
	main   *mainSink
	file   *os.File
}

// newLogging sets up the log as o asks: level, format and logfile.
func newLogging(o *options, stderr io.Writer) (*logging, error) {
	l := &logging{level: new(slog.LevelVar), main: &mainSink{w: stderr, tag: filepath.Base(os.Args[0])}}
	if o.debug {
		l.level.Set(slog.LevelDebug)
	}
	handlers := []slog.Handler{l.handler(o.logFormat, l.main, false)}
	if o.logfile != "" {
		f, err := os.OpenFile(o.logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("logfile: %w", err)
		}
		l.file = f
		handlers = append(handlers, l.handler(o.logFormat, &fileSink{w: f}, true))
	}
	if len(handlers) == 1 {
		l.Logger = slog.New(handlers[0])
	} else {
		l.Logger = slog.New(slog.NewMultiHandler(handlers...))
	}
	return l, nil
}

// handler returns the handler of one destination.
func (l *logging) handler(format string, s sink, stamp bool) slog.Handler {
	if format == "json" {
		return slog.NewJSONHandler(sinkWriter{s}, &slog.HandlerOptions{Level: l.level})
	}
	return &lineHandler{sink: s, level: l.level, stamp: stamp}
}

// toggleDebug switches debug logging on or off (SIGUSR1, as pppd).
func (l *logging) toggleDebug() {
	if l.level.Level() == slog.LevelDebug {
		l.level.Set(slog.LevelInfo)
		l.Logger.Info("debug logging off")
	} else {
		l.level.Set(slog.LevelDebug)
		l.Logger.Info("debug logging on")
	}
}

// detach stops writing to standard error, for a process that has gone to
// the background; the log goes to syslog from then on, when there is one,
// and to the logfile.
func (l *logging) detach() { l.main.detach() }

// close closes the logfile.
func (l *logging) close() {
	l.main.close()
	if l.file != nil {
		l.file.Close()
	}
}

// A sink takes finished log lines, each ending in a newline.
type sink interface {
	emit(level slog.Level, line []byte)
}

// mainSink writes to standard error, and after detach to syslog. Write
// errors are ignored: a closed terminal must not stop the link.
type mainSink struct {
	mu       sync.Mutex
	w        io.Writer // nil after detach
	tag      string
	sys      *syslog.Writer
	detached bool
}

func (s *mainSink) emit(level slog.Level, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.sys != nil:
		msg := strings.TrimSuffix(string(line), "\n")
		switch {
		case level >= slog.LevelError:
			s.sys.Err(msg)
		case level >= slog.LevelWarn:
			s.sys.Warning(msg)
		case level >= slog.LevelInfo:
			s.sys.Info(msg)
		default:
			s.sys.Debug(msg)
		}
	case s.w != nil:
		s.w.Write(line)
	}
}

func (s *mainSink) detach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached {
		return
	}
	s.detached = true
	s.w = nil
	if w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_INFO, s.tag); err == nil {
		s.sys = w
	}
}

func (s *mainSink) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sys != nil {
		s.sys.Close()
		s.sys = nil
	}
}

// fileSink appends to the logfile.
type fileSink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *fileSink) emit(_ slog.Level, line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Write(line)
}

// sinkWriter lets slog's JSON handler write to a sink, one record per
// Write.
type sinkWriter struct{ s sink }

func (w sinkWriter) Write(p []byte) (int, error) {
	w.s.emit(slog.LevelInfo, p)
	return len(p), nil
}

// lineHandler is the slog.Handler of the text format: a line per record,
// the message first, as pppd logs, then the attributes as key=value
// (values quoted when they hold spaces, quotes, '=' or control
// characters), group names joined to keys with dots. Warnings and errors
// get a "warning: " or "error: " prefix; stamp puts the record's time in
// front ("2006-01-02 15:04:05.000 ").
type lineHandler struct {
	sink   sink
	level  slog.Leveler
	stamp  bool
	prefix string // group prefix of the keys, "g." for WithGroup("g")
	attrs  []byte // attributes of WithAttrs, formatted
}

// timeLayout is the timestamp of logfile lines.
const timeLayout = "2006-01-02 15:04:05.000 "

// Enabled reports whether the level is on.
func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// Handle formats r as one line and writes it.
func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 80+len(r.Message)+len(h.attrs))
	if h.stamp && !r.Time.IsZero() {
		buf = r.Time.AppendFormat(buf, timeLayout)
	}
	switch {
	case r.Level >= slog.LevelError:
		buf = append(buf, "error: "...)
	case r.Level >= slog.LevelWarn:
		buf = append(buf, "warning: "...)
	}
	buf = append(buf, r.Message...)
	buf = append(buf, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, h.prefix, a)
		return true
	})
	buf = append(buf, '\n')
	h.sink.emit(r.Level, buf)
	return nil
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendAttr(h2.attrs, h.prefix, a)
	}
	return &h2
}

// WithGroup returns a handler that puts name and a dot before later keys.
func (h *lineHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// appendAttr appends " key=value", or the members of a group.
func appendAttr(buf []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			buf = appendAttr(buf, prefix, g)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = append(buf, prefix...)
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	var s string
	switch v := a.Value; v.Kind() {
	case slog.KindTime:
		s = v.Time().Format(time.RFC3339Nano)
	case slog.KindDuration:
		s = v.Duration().String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			s = err.Error()
		} else {
			s = fmt.Sprint(v.Any())
		}
	default:
		s = v.String()
	}
	if needsQuote(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

// needsQuote reports whether a value must be quoted to stay one token.
func needsQuote(s string) bool {
	return s == "" || strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == '"' || r == '=' || r == '\\' || !unicode.IsPrint(r)
	}) >= 0
}
