package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/troupehq/troupe/actors"
	"github.com/troupehq/troupe/authz"
	"github.com/troupehq/troupe/internal/wstest"
	"github.com/troupehq/troupe/realtime"
	"github.com/troupehq/troupe/service"
	"github.com/troupehq/troupe/service/servicetest"
	"github.com/troupehq/troupe/versioning"
)

const secret = "0123456789abcdef0123456789abcdef"

// policies let readers connect and join any room but chat.secret, and
// writers publish.
const policies = `
permit (principal in Role::"reader", action == Action::"connect", resource);
permit (principal in Role::"reader", action == Action::"join", resource)
unless { resource == Room::"chat.secret" };
permit (principal in Role::"writer", action == Action::"publish", resource);
`

func token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "troupe-test", "aud": "api", "sub": sub, "exp": time.Now().Add(time.Hour).Unix(), "roles": roles,
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startChain runs a service whose v2 API has a chat room endpoint served by
// a hub that asks the same Cedar policies about joins and publications.
func startChain(t *testing.T, env map[string]string) *servicetest.Service {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "realtime.cedar")
	if err := os.WriteFile(file, []byte(policies), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := authz.LoadPolicies(file)
	if err != nil {
		t.Fatal(err)
	}
	az := authz.NewAuthorizer(authz.AuthorizerConfig{Policies: store})
	sys := actors.NewSystem()
	hub, err := realtime.New(sys, realtime.DefaultConfig(),
		realtime.WithAllowedOrigins("https://app.example"),
		realtime.WithAuthorizer(func(ctx context.Context, p *authz.Principal, action, room string) error {
			d, err := az.Authorize(ctx, authz.Request{Principal: p, Action: action, Resource: cedar.NewEntityUID("Room", cedar.String(room))})
			if err != nil {
				return err
			}
			if !d.Allowed {
				return errors.New("denied by policy")
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		_ = sys.Shutdown(ctx)
	})
	api := versioning.New("/api").Version(2, func(g *versioning.Group) {
		g.WS("/rooms/:room", realtime.Handler(realtime.Endpoint{Hub: hub, Rooms: []string{"chat.:room"}, PublishInbound: true}))
	})
	base := map[string]string{
		"AUTH__JWT__HMAC_SECRET": secret, "AUTH__JWT__ISSUER": "troupe-test", "AUTH__JWT__AUDIENCE": "api",
		"AUTH__CEDAR__POLICIES": file, "CORS__ALLOW_ORIGINS": "https://app.example",
	}
	for k, v := range env {
		base[k] = v
	}
	return servicetest.Start(t, "chat", base, service.WithAPI(api))
}

// dial opens the chat room as the bearer of tok ("" for none).
func dial(s *servicetest.Service, room, tok string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	if tok != "" {
		header.Set("Authorization", "Bearer "+tok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v2/rooms/" + room
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
}

// refused checks that err is a refused handshake answered by a problem
// document with status, carrying the request ID.
func refused(t *testing.T, what string, resp *http.Response, err error, status int) {
	t.Helper()
	if err == nil || resp == nil {
		t.Fatalf("%s: upgraded, want %d", what, status)
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s: %d %s, want %d problem+json", what, resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s: no request ID", what)
	}
	var p struct {
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.Status != status || p.RequestID == "" {
		t.Errorf("%s: problem %+v %v", what, p, err)
	}
}

// TestThroughTheChain: a realtime route sits behind the service's whole
// request path — authentication, Cedar's connect, the Origin allow-list,
// the rate limit — and each refusal is a problem before any upgrade.
func TestThroughTheChain(t *testing.T) {
	s := startChain(t, map[string]string{"RATE_LIMIT__ENABLED": "true", "RATE_LIMIT__PER_USER_RPM": "4"})
	ada := token(t, "ada", "reader", "writer")

	_, resp, err := dial(s, "lobby", "", nil)
	refused(t, "no token", resp, err, http.StatusUnauthorized)
	_, resp, err = dial(s, "lobby", ada[:len(ada)-4]+"AAAA", nil)
	refused(t, "bad token", resp, err, http.StatusUnauthorized)
	_, resp, err = dial(s, "lobby", token(t, "cyd"), nil)
	refused(t, "connect denied", resp, err, http.StatusForbidden)
	_, resp, err = dial(s, "secret", ada, nil)
	refused(t, "join denied", resp, err, http.StatusForbidden)
	_, resp, err = dial(s, "lobby", ada, http.Header{"Origin": {"https://evil.example"}})
	refused(t, "foreign origin", resp, err, http.StatusForbidden)

	c, resp, err := dial(s, "lobby", ada, http.Header{"Origin": {"https://app.example"}})
	if err != nil {
		t.Fatalf("ada: %v", err)
	}
	defer c.CloseNow()
	if resp.Header.Get("X-Request-ID") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("101 without the chain's fields: %v", resp.Header)
	}
	wstest.ReadType(t, c, "joined")
	if err := c.Write(context.Background(), websocket.MessageText, []byte(`{"text":"hi"}`)); err != nil {
		t.Fatal(err)
	}
	if f := wstest.ReadType(t, c, "message"); f["sender"] != "ada" {
		t.Errorf("message %v", f)
	}

	// bob may read but not write: his message is refused, his connection stays.
	bob, _, err := dial(s, "lobby", token(t, "bob", "reader"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.CloseNow()
	wstest.ReadType(t, bob, "joined")
	_ = bob.Write(context.Background(), websocket.MessageText, []byte(`{"text":"hi"}`))
	if f := wstest.ReadType(t, bob, "error"); f["status"] != float64(403) {
		t.Errorf("bob's publish: %v", f)
	}

	// ada's upgrades count against her rate limit like requests.
	var last *http.Response
	for range 5 {
		c, r, err := dial(s, "lobby", ada, nil)
		if err != nil {
			last = r
			break
		}
		_ = c.CloseNow()
	}
	refused(t, "past the rate limit", last, errors.New("refused"), http.StatusTooManyRequests)
	if !strings.Contains(s.Logs.String(), `"status":101`) {
		t.Error("the access log has no upgrade")
	}
}
