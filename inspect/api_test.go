package inspect

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/actors"
)

// serve starts the inspector's handler on a test server.
func serve(t testing.TB, i *Inspector, c ConsoleConfig) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(i.Handler(c, &Sources{Service: "test", Version: "1.0", Started: time.Now()}))
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t testing.TB, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k := 0; k+1 < len(header); k += 2 {
		req.Header.Set(header[k], header[k+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAPI(t *testing.T) {
	i, s := testSystem(t, devConfig(), Options{})
	refs := make([]actors.Ref, 5)
	for k := range refs {
		refs[k], _ = s.Spawn(fmt.Sprint("a", k), echo)
		for range k + 1 {
			_, _ = s.Request(context.Background(), refs[k], "hi")
		}
	}
	waitEvents(t, i, EventFilter{}, 15)
	srv := serve(t, i, DefaultConsoleConfig())

	resp, body := fetch(t, srv.URL+"/inspect/actors?limit=2&offset=1")
	page := decodeJSON[ActorsPage](t, body)
	if resp.StatusCode != 200 || page.Total != 5 || len(page.Actors) != 2 || page.Actors[0].Name != "a1" || page.Sort != SortTree {
		t.Errorf("page %+v", page)
	}
	_, body = fetch(t, srv.URL+"/inspect/actors?sort=rate&top=1")
	if top := decodeJSON[ActorsPage](t, body); len(top.Actors) != 1 || top.Actors[0].Name != "a4" {
		t.Errorf("top by rate %+v", top.Actors)
	}
	_, body = fetch(t, srv.URL+"/inspect/events?actor=a3")
	if ev := decodeJSON[[]Event](t, body); len(ev) != 4 || ev[0].Actor != "a3" {
		t.Errorf("events of a3: %d", len(ev))
	}
	resp, body = fetch(t, srv.URL+"/inspect/events?format=csv&actor=a2")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(rows) != 4 || rows[0][0] != "seq" || rows[1][4] != "a2" {
		t.Errorf("CSV %v (%v): %q", rows, err, body)
	}
	_, body = fetch(t, srv.URL+"/inspect/stats")
	if st := decodeJSON[Stats](t, body); st.Events != 15 || st.MaxEvents != DefaultConfig().MaxEvents {
		t.Errorf("stats %+v", st)
	}
	_, body = fetch(t, srv.URL+"/inspect/cycles")
	if cs := decodeJSON[Cycles](t, body); cs.Current == nil || cs.Recent == nil {
		t.Errorf("cycles %s", body)
	}
	resp, body = fetch(t, fmt.Sprintf("%s/inspect/actors/%d", srv.URL, refs[4].ID()))
	if d := decodeJSON[ActorDetail](t, body); resp.StatusCode != 200 || d.Figures == nil || len(d.Events) != 5 {
		t.Errorf("actor detail %s", body)
	}
	for _, bad := range []string{"/inspect/actors?sort=size", "/inspect/actors?limit=5000", "/inspect/actors?offset=-1",
		"/inspect/events?format=xml", "/inspect/events?limit=x", "/inspect/actors/x", "/inspect/nope"} {
		resp, body := fetch(t, srv.URL+bad)
		if resp.StatusCode < 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s = %d %s %q, want a problem", bad, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func decodeJSON[T any](t testing.TB, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
	return v
}

func TestConsoleAuth(t *testing.T) {
	i, _ := testSystem(t, devConfig(), Options{})
	token := "0123456789abcdef-token"
	bearer := serve(t, i, ConsoleConfig{Enabled: true, Auth: AuthBearer, Token: token, MaxClients: 1})
	basic := serve(t, i, ConsoleConfig{Enabled: true, Auth: AuthBasic, Username: "ops", Password: "0123456789abcdef", MaxClients: 1})
	for _, c := range []struct {
		srv    *httptest.Server
		path   string
		header []string
		want   int
	}{
		{bearer, "/console", nil, 401},
		{bearer, "/inspect/stats", []string{"Authorization", "Bearer wrong-token-0123456789"}, 401},
		{bearer, "/inspect/stats", []string{"Authorization", "Basic b3BzOjAxMjM0NTY3ODlhYmNkZWY="}, 401},
		{bearer, "/inspect/stats", []string{"Authorization", "Bearer " + token}, 200},
		{bearer, "/inspect/cluster", nil, 401},
		{bearer, "/inspect/cluster", []string{"Authorization", "Bearer " + token}, 200},
		{basic, "/console/cluster", nil, 401},
		{bearer, "/console", []string{"Authorization", "bearer " + token}, 200},
		{basic, "/console", nil, 401},
		{basic, "/console", []string{"Authorization", "Basic b3BzOndyb25n"}, 401},
		{basic, "/console", []string{"Authorization", "Bearer 0123456789abcdef"}, 401},
		{basic, "/console", []string{"Authorization", "Basic b3BzOjAxMjM0NTY3ODlhYmNkZWY="}, 200},
	} {
		resp, body := fetch(t, c.srv.URL+c.path, c.header...)
		if resp.StatusCode != c.want {
			t.Errorf("%s %v = %d, want %d", c.path, c.header, resp.StatusCode, c.want)
		}
		if c.want == 401 {
			if resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without a problem or a challenge: %v %q", resp.Header, body)
			}
			if strings.Contains(body, token) {
				t.Error("the 401 shows the token")
			}
		}
	}
}

func TestConsoleConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  ConsoleConfig
		want string
	}{
		{ConsoleConfig{Auth: "oauth", MaxClients: 1}, "Auth"},
		{ConsoleConfig{Auth: AuthBearer, Token: "short", MaxClients: 1}, "Token"},
		{ConsoleConfig{Auth: AuthBasic, Username: "a:b", Password: "0123456789abcdef", MaxClients: 1}, "Username"},
		{ConsoleConfig{Auth: AuthBasic, Username: "ops", Password: "short", MaxClients: 1}, "Password"},
		{ConsoleConfig{Auth: AuthNone, MaxClients: 0}, "MaxClients"},
		{ConsoleConfig{Auth: AuthNone, MaxClients: 1001}, "MaxClients"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.want+":") {
			t.Errorf("%+v: %v, want a problem with %s", c.cfg, err, c.want)
		}
	}
	if err := DefaultConsoleConfig().Validate(); err != nil {
		t.Error(err)
	}
}

// TestLiveClientsBounded opens 1,000 live consoles at once against a bound
// of 8: exactly 8 stream, the others get a 503 problem, and when one
// leaves another can join.
func TestLiveClientsBounded(t *testing.T) {
	i, _ := testSystem(t, devConfig(), Options{})
	c := DefaultConsoleConfig()
	srv := serve(t, i, c)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		status int
		body   io.ReadCloser
		ctype  string
	}
	results := make(chan result, 1000)
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/console/live", nil)
			resp, err := client.Do(req)
			if err != nil {
				results <- result{status: -1}
				return
			}
			if resp.StatusCode != http.StatusOK {
				resp.Body.Close()
			}
			results <- result{resp.StatusCode, resp.Body, resp.Header.Get("Content-Type")}
		})
	}
	wg.Wait()
	close(results)
	var streams []io.ReadCloser
	refused := 0
	for r := range results {
		switch r.status {
		case http.StatusOK:
			if r.ctype != "text/event-stream" {
				t.Errorf("stream Content-Type %q", r.ctype)
			}
			streams = append(streams, r.body)
		case http.StatusServiceUnavailable:
			refused++
			if r.ctype != "application/problem+json" {
				t.Errorf("503 Content-Type %q", r.ctype)
			}
		default:
			t.Errorf("status %d", r.status)
		}
	}
	if len(streams) != c.MaxClients || refused != 1000-c.MaxClients {
		t.Fatalf("%d streams and %d refused, want %d and %d", len(streams), refused, c.MaxClients, 1000-c.MaxClients)
	}
	// A stream carries updates.
	buf := make([]byte, 512)
	n, _ := streams[0].Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "event: update\ndata: {") {
		t.Errorf("first bytes %q", buf[:n])
	}
	streams[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/console/live", nil)
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot came free after a console left")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, s := range streams[1:] {
		s.Close()
	}
}
