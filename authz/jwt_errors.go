package authz

import "errors"

// ErrInvalidToken is matched (errors.Is) by every error Verify returns for a
// token that must be refused: malformed, badly signed, expired, revoked and
// so on. The HTTP layer answers all of them with the same 401, so a client
// never learns which check failed.
var ErrInvalidToken = errors.New("authz: invalid token")

// ErrRevocationUnavailable is matched by the error Verify returns when the
// revocation store could not be asked. It is not a verdict on the token:
// the request is refused with 503 (fail closed) and may be retried.
var ErrRevocationUnavailable = errors.New("authz: revocation store unavailable")

// TokenError is the error Verify returns for a refused token. Reason names
// the failed check for the server's log; it is never sent to the client.
type TokenError struct {
	// Reason is a short phrase such as "expired" or "unknown kid".
	Reason string
}

// Error reports the reason.
func (e *TokenError) Error() string { return "invalid token: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidToken) true for every TokenError.
func (e *TokenError) Is(target error) bool { return target == ErrInvalidToken }

// invalid returns a *TokenError with reason, as an error.
func invalid(reason string) error { return &TokenError{Reason: reason} }
