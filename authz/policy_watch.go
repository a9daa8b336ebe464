package authz

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"
)

// DefaultPolicyPollInterval is how often Watch re-reads the policies when
// given no interval: quick enough that an edit takes effect while the
// operator is still looking, slow enough to cost nothing.
const DefaultPolicyPollInterval = 5 * time.Second

// Watch re-reads the policies every interval (DefaultPolicyPollInterval when
// interval <= 0) until ctx is done; run it on its own goroutine. Polling
// rather than file-system events keeps it working where events are
// unreliable: network and overlay file systems, and Kubernetes ConfigMaps,
// which change a symlink rather than the files.
//
// A change is acted on once the files have stayed the same for one more
// interval, so a file caught half-written by an editor or a copy is never
// loaded: a truncated file can parse, and lose a forbid. (Writers that
// rename a complete file into place avoid the question.) A change that
// parses replaces the set atomically, runs the OnReload
// callbacks and is logged at INFO. One that does not keeps the current set,
// is logged at ERROR with the file and line, and is reported by LastError
// until a later change loads. Each outcome is logged once, not on every
// tick. A nil logger means slog.Default().
func (s *PolicyStore) Watch(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if interval <= 0 {
		interval = DefaultPolicyPollInterval
	}
	if logger == nil {
		logger = slog.Default()
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var pending [sha256.Size]byte // a change seen once, waiting to settle
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		srcs, fp, readErr := readFingerprinted(s.path)
		if s.isCurrent(fp) || fp != pending {
			pending = fp
			continue
		}
		changed, err := s.apply(srcs, fp, readErr)
		switch {
		case !changed:
		case err != nil:
			logger.LogAttrs(ctx, slog.LevelError, "authz: policy reload failed; keeping the current policies",
				slog.String("path", s.path), slog.Uint64("generation", s.Generation()), slog.Any("error", err))
		default:
			logger.LogAttrs(ctx, slog.LevelInfo, "authz: policies reloaded",
				slog.String("path", s.path), slog.Uint64("generation", s.Generation()), slog.Int("policies", s.Len()))
		}
	}
}
