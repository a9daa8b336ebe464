package service

import (
	"io"
	"log/slog"
	"os"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/logjson"
)

// newLogger returns the service's logger writing to w (stderr when nil) in
// cfg.Format. JSON goes through logjson, which writes what slog.JSONHandler
// does at a fraction of the cost: the access log writes one record per
// request.
func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(logjson.New(w, opts))
}
