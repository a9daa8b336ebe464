package inspect

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/troupehq/troupe/internal/fielderr"
	"github.com/troupehq/troupe/problem"
)

// Console access modes.
const (
	AuthNone   = "none"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
)

// minTokenLen keeps bearer tokens out of guessing range: 16 characters of
// a random token are at least 80 bits.
const minTokenLen = 16

// ConsoleConfig configures the console and the JSON API.
type ConsoleConfig struct {
	// Enabled serves /console and /inspect/ on the admin listener.
	Enabled bool
	// Auth is none, bearer (Token) or basic (Username and Password).
	Auth     string
	Token    string
	Username string
	Password string
	// MaxClients bounds the consoles receiving live updates at once.
	MaxClients int
}

// maxConsoleClients bounds MaxClients: each live console holds a
// connection and a goroutine, and refreshes once a second.
const maxConsoleClients = 1000

// DefaultConsoleConfig serves the console without authentication: the
// admin listener it is on is loopback-only by default.
func DefaultConsoleConfig() ConsoleConfig {
	return ConsoleConfig{Enabled: true, Auth: AuthNone, MaxClients: 8}
}

// Validate reports every problem, each naming its field.
func (c ConsoleConfig) Validate() error {
	var errs []error
	switch c.Auth {
	case AuthNone:
	case AuthBearer:
		if len(c.Token) < minTokenLen {
			errs = append(errs, fielderr.New("Token", "bearer access needs a token of at least %d characters", minTokenLen))
		}
	case AuthBasic:
		if c.Username == "" || strings.Contains(c.Username, ":") {
			errs = append(errs, fielderr.New("Username", "basic access needs a user name without ':'"))
		}
		if len(c.Password) < minTokenLen {
			errs = append(errs, fielderr.New("Password", "basic access needs a password of at least %d characters", minTokenLen))
		}
	default:
		errs = append(errs, fielderr.New("Auth", "unknown access mode %q: use none, bearer or basic", c.Auth))
	}
	if c.MaxClients < 1 || c.MaxClients > maxConsoleClients {
		errs = append(errs, fielderr.New("MaxClients", "must be between 1 and %d, got %d", maxConsoleClients, c.MaxClients))
	}
	return errors.Join(errs...)
}

// guard lets through only requests with the configured credentials; the
// others get a 401 problem with the challenge that says what to send.
func (c ConsoleConfig) guard(next http.Handler) http.Handler {
	if c.Auth == AuthNone || c.Auth == "" {
		return next
	}
	want := sha256.Sum256([]byte(c.Token))
	challenge := `Bearer realm="troupe-console"`
	if c.Auth == AuthBasic {
		want = sha256.Sum256([]byte(c.Username + ":" + c.Password))
		challenge = `Basic realm="troupe-console", charset="UTF-8"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hashing first makes the comparison's time independent of the
		// lengths too.
		got := sha256.Sum256([]byte(c.credentials(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", challenge)
			problem.Write(w, r, problem.New(http.StatusUnauthorized, "The console needs valid credentials."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// credentials returns what r presents in the configured scheme: the
// token, or "user:password"; "" when nothing.
func (c ConsoleConfig) credentials(r *http.Request) string {
	if c.Auth == AuthBasic {
		u, p, ok := r.BasicAuth()
		if !ok {
			return ""
		}
		return u + ":" + p
	}
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
