package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"

	"github.com/troupehq/troupe/internal/fielderr"
)

// maxJWKSBytes bounds a JWKS document; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// jwksSource is one JWKS URL and what was last learnt from it.
type jwksSource struct {
	url string

	mu      sync.Mutex
	keys    []*verificationKey // the last good key set; kept when a refresh fails
	lastErr error              // the last refresh's error, nil after a success
	lastAt  time.Time          // when lastErr was recorded
}

func (s *jwksSource) snapshot() []*verificationKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys
}

func (s *jwksSource) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr == nil {
		return nil
	}
	return fmt.Errorf("auth.jwt.jwks_urls: %s: refresh at %s failed (serving the last good keys): %w",
		s.url, s.lastAt.UTC().Format(time.RFC3339), s.lastErr)
}

// jwksClient fetches JWKS documents. Troupe does this itself rather than
// through keyfunc's storage because it needs what that storage does not
// give: the refetch on an unknown kid never makes a request wait for a rate
// limiter (a refused refetch is an immediate 401), the last refresh error
// is visible to readiness, and a refresh that fails keeps the last good
// keys. jwkset still does the JWK parsing and validation.
type jwksClient struct {
	sources    []*jwksSource
	client     *http.Client
	logger     *slog.Logger
	now        func() time.Time
	minRefetch time.Duration
	changed    func() // called after a fetch, to rebuild the verifier's key set

	fetchMu   sync.Mutex // one fetch round at a time; guards lastFetch
	lastFetch time.Time
}

// fetchAll fetches every source once and reports their errors joined.
func (j *jwksClient) fetchAll(ctx context.Context) error {
	j.fetchMu.Lock()
	defer j.fetchMu.Unlock()
	return j.fetchAllLocked(ctx)
}

func (j *jwksClient) fetchAllLocked(ctx context.Context) error {
	var errs []error
	for _, s := range j.sources {
		keys, err := j.fetch(ctx, s.url)
		s.mu.Lock()
		s.lastErr, s.lastAt = err, j.now()
		if err == nil {
			s.keys = keys
		}
		s.mu.Unlock()
		if err != nil {
			errs = append(errs, fielderr.New("JWKSURLs", "%s: %w", s.url, err))
		}
	}
	j.lastFetch = j.now()
	j.changed()
	return errors.Join(errs...)
}

// refetch fetches every source again for a token whose kid is unknown,
// unless a fetch happened less than minRefetch ago: unknown kids are cheap
// for anyone to send, so they must not turn into a stream of requests to
// the identity provider. Concurrent callers share one fetch; each looks the
// kid up again afterwards whatever refetch returns.
func (j *jwksClient) refetch(ctx context.Context) {
	j.fetchMu.Lock()
	defer j.fetchMu.Unlock()
	if j.now().Sub(j.lastFetch) < j.minRefetch {
		return
	}
	// The fetch outlives a client that hangs up: others may be waiting for it.
	if err := j.fetchAllLocked(context.WithoutCancel(ctx)); err != nil {
		j.logger.WarnContext(ctx, "JWKS refetch for an unknown kid failed", "error", err)
	}
}

// run refreshes every interval until ctx ends.
func (j *jwksClient) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := j.fetchAll(ctx); err != nil && ctx.Err() == nil {
				j.logger.WarnContext(ctx, "JWKS refresh failed; keeping the last good keys", "error", err)
			}
		}
	}
}

// fetch downloads and parses one JWKS document. It is bounded even when the
// configured client has no timeout, because fetches hold fetchMu and
// requests with unknown kids wait on it.
func (j *jwksClient) fetch(ctx context.Context, url string) ([]*verificationKey, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultJWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("document larger than %d bytes", maxJWKSBytes)
	}
	return j.parse(ctx, url, body)
}

// parse turns a JWKS document into verification keys. Keys that cannot be
// used — for encryption, symmetric, of an unsupported type or size — are
// skipped with a log line rather than failing the whole set, so one odd key
// published by the provider does not lock every user out. Only the public
// key parameters are read: x5u, x5c and the like are dropped before jwkset
// sees them so that nothing in a fetched document causes another fetch.
func (j *jwksClient) parse(ctx context.Context, url string, body []byte) ([]*verificationKey, error) {
	var doc struct {
		Keys []jwkset.JWKMarshal `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decoding JWKS: %w", err)
	}
	keys := make([]*verificationKey, 0, len(doc.Keys))
	seen := make(map[string]bool, len(doc.Keys))
	for i, m := range doc.Keys {
		k, err := jwkToKey(m)
		if err == nil && k.kid != "" && seen[k.kid] {
			err = errors.New("duplicate kid")
		}
		if err != nil {
			j.logger.WarnContext(ctx, "JWKS key skipped", "url", url, "index", i, "kid", m.KID, "error", err)
			continue
		}
		seen[k.kid] = true
		k.source = url
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signing key in the JWKS")
	}
	return keys, nil
}

// jwkToKey converts one JWK to a verification key.
func jwkToKey(m jwkset.JWKMarshal) (*verificationKey, error) {
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, fmt.Errorf("use %q is not sig", m.USE)
	}
	if m.KTY == jwkset.KtyOct {
		return nil, errors.New("symmetric keys are never taken from a JWKS")
	}
	public := jwkset.JWKMarshal{KTY: m.KTY, KID: m.KID, CRV: m.CRV, X: m.X, Y: m.Y, N: m.N, E: m.E}
	jwk, err := jwkset.NewJWKFromMarshal(public, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		return nil, err
	}
	family, err := familyOf(jwk.Key())
	if err != nil {
		return nil, err
	}
	alg := m.ALG.String()
	if alg != "" && algFamilies[alg] != family {
		return nil, fmt.Errorf("alg %q does not fit a %s", alg, family)
	}
	return &verificationKey{kid: m.KID, family: family, alg: alg, key: jwk.Key()}, nil
}
