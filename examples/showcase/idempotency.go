package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/actors/state"
	"github.com/troupehq/troupe/problem"
)

// Note creation is idempotent when the request carries an Idempotency-Key
// header (the IETF httpapi draft's): the answer to each key is kept in the
// service's store, and a retry with the same key and body gets that answer
// again, marked Idempotent-Replayed, instead of a second note — through
// any node. It is the handler's half of at-least-once delivery: actor
// messages across nodes are delivered at most once
// (docs/cluster.md#guarantees-and-failures), so a caller that must not
// lose a create retries it on a timeout or a 503 (troupe's resilience
// client retries a POST that has the header), and the key makes the retry
// after a lost reply harmless.

// maxIdempotencyKeyLen bounds a key: a UUID is 36 characters, and the
// draft suggests servers bound keys.
const maxIdempotencyKeyLen = 255

// idempotency keeps each key's answer in the store, under
// "notes-idempotency/<sha256 of principal and key>".
type idempotency struct {
	store state.Store
}

// answer is a key's record: claimed by the create in progress, then the
// answer it gave.
type answer struct {
	Body   string      `json:"body"` // SHA-256 of the request body, hex
	Done   bool        `json:"done"`
	Status int         `json:"status,omitempty"`
	Header http.Header `json:"header,omitempty"`
	Reply  []byte      `json:"reply,omitempty"`
}

// idempotencyKey returns the request's store key ("" without the header),
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
	sum := sha256.Sum256([]byte(owner + "\x00" + key))
	return "notes-idempotency/" + hex.EncodeToString(sum[:]), nil
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// claim takes key for this create (PutIf: of two racing retries one
// wins) and returns nil; when the key was taken before, it returns the
// answer to give instead: the first answer replayed, 422 for another
// body, 409 while the first create is still in progress.
func (m idempotency) claim(ctx context.Context, key string, body []byte) any {
	v, _ := json.Marshal(answer{Body: bodyHash(body)})
	_, err := m.store.PutIf(ctx, key, v, 0)
	if !errors.Is(err, state.ErrConflict) {
		if err != nil {
			return storeUnavailable(err)
		}
		return nil
	}
	v, err = m.store.Get(ctx, key)
	var a answer
	if err == nil {
		err = json.Unmarshal(v, &a)
	}
	switch {
	case errors.Is(err, state.ErrNotFound), err == nil && !a.Done && a.Body == bodyHash(body):
		return problem.NewError(http.StatusConflict, "a request with this Idempotency-Key is in progress; retry shortly").WithHeader("Retry-After", "1")
	case err != nil:
		return storeUnavailable(err)
	case a.Body != bodyHash(body):
		return problem.NewError(http.StatusUnprocessableEntity, "this Idempotency-Key was used with a different request body")
	}
	h := a.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Idempotent-Replayed", "true")
	return &actors.HTTPResponse{Status: a.Status, Header: h, Body: a.Reply}
}

// settle records the create's answer under key, or frees the key when
// the create failed, so that a retry can create.
func (m idempotency) settle(ctx context.Context, key string, body []byte, resp any) error {
	r, ok := resp.(*actors.HTTPResponse)
	if !ok {
		return m.store.Delete(ctx, key)
	}
	v, err := json.Marshal(answer{Body: bodyHash(body), Done: true, Status: r.Status, Header: r.Header, Reply: r.Body})
	if err != nil {
		return err
	}
	return m.store.Put(ctx, key, v)
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
