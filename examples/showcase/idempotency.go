package main

import (
	"crypto/sha256"
	"fmt"
	"net/http"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/problem"
)

// Note creation is idempotent when the request carries an Idempotency-Key
// header (the IETF httpapi draft's): the notes actor remembers the answer
// to each key, and a retry with the same key and body gets that answer
// again, marked Idempotent-Replayed, instead of a second note. It is the
// handler's half of at-least-once delivery: actor messages across nodes
// are delivered at most once (docs/cluster.md#guarantees-and-failures), so
// a caller that must not lose a create retries it on a timeout or a 503
// (troupe's resilience client retries a POST that has the header), and
// the key makes the retry after a lost reply harmless.

// maxIdempotencyKeys bounds what the notes actor remembers: the oldest key
// is forgotten first. A key is typically retried within seconds; 10,000
// keys of about 400 bytes each (the reply body and bookkeeping) is 4 MB.
const maxIdempotencyKeys = 10_000

// maxIdempotencyKeyLen bounds a key: a UUID is 36 characters, and the
// draft suggests servers bound keys.
const maxIdempotencyKeyLen = 255

// replayed is a remembered answer and the body it answered.
type replayed struct {
	body [sha256.Size]byte
	resp *actors.HTTPResponse
}

// idempotency maps keys, scoped by principal, to their answers. It is
// owned by the notes actor, so it needs no lock.
type idempotency struct {
	answers map[string]replayed
	order   []string // oldest first, for eviction
}

func newIdempotency() *idempotency {
	return &idempotency{answers: make(map[string]replayed)}
}

// idempotencyKey returns the request's scoped key ("" without the header),
// or a 400 for a malformed one. Keys are scoped by principal, so one
// client cannot replay another's answer by guessing its key.
func idempotencyKey(req *actors.HTTPRequest) (string, error) {
	key := req.Header.Get("Idempotency-Key")
	if key == "" {
		return "", nil
	}
	if len(key) > maxIdempotencyKeyLen || !visibleASCII(key) {
		return "", problem.NewError(http.StatusBadRequest,
			fmt.Sprintf("Idempotency-Key must be 1 to %d visible ASCII characters", maxIdempotencyKeyLen))
	}
	owner := ""
	if req.Principal != nil {
		owner = req.Principal.Subject
	}
	return owner + "\x00" + key, nil
}

// replay returns the answer remembered for key, a 422 when the key was
// used with another body, or nil when the key is new.
func (m *idempotency) replay(key string, body []byte) any {
	r, ok := m.answers[key]
	if !ok {
		return nil
	}
	if r.body != sha256.Sum256(body) {
		return problem.NewError(http.StatusUnprocessableEntity, "this Idempotency-Key was used with a different request body")
	}
	h := r.resp.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Idempotent-Replayed", "true")
	return &actors.HTTPResponse{Status: r.resp.Status, Header: h, Body: r.resp.Body}
}

// remember keeps the answer to key, forgetting the oldest key when full.
func (m *idempotency) remember(key string, body []byte, resp *actors.HTTPResponse) {
	if len(m.order) == maxIdempotencyKeys {
		delete(m.answers, m.order[0])
		m.order = m.order[1:]
	}
	m.answers[key] = replayed{body: sha256.Sum256(body), resp: resp}
	m.order = append(m.order, key)
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
