package middleware

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/troupehq/troupe/internal/fielderr"
)

// clientIPRule returns NewClientIP's rule for trusted, failing t on error.
func clientIPRule(t testing.TB, trusted ...string) func(*http.Request) string {
	t.Helper()
	rule, err := NewClientIP(trusted)
	if err != nil {
		t.Fatal(err)
	}
	return rule
}

func TestClientIP(t *testing.T) {
	extract := clientIPRule(t, "10.0.0.0/8", "192.0.2.1")
	tests := []struct {
		name, remote string
		header       http.Header
		want         string
	}{
		{"direct client", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header ignored", "203.0.113.7:5000", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"XFF through a trusted proxy", "10.1.2.3:80", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"XFF skips trusted hops, stops at the first untrusted", "10.1.2.3:80", http.Header{"X-Forwarded-For": {"6.6.6.6, 198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"Forwarded wins over XFF", "192.0.2.1:80", http.Header{"Forwarded": {`for=198.51.100.2;proto=https`}, "X-Forwarded-For": {"6.6.6.6"}}, "198.51.100.2"},
		{"Forwarded with IPv6 and port, quoted", "10.0.0.1:80", http.Header{"Forwarded": {`for="[2001:db8::17]:4711"`}}, "2001:db8::17"},
		{"Forwarded chain across header lines", "10.0.0.1:80", http.Header{"Forwarded": {"for=6.6.6.6, for=198.51.100.3", "FOR=10.2.2.2"}}, "198.51.100.3"},
		{"obfuscated hop: the last trusted proxy is the client", "10.0.0.1:80", http.Header{"Forwarded": {"for=_hidden, for=10.3.3.3"}}, "10.3.3.3"},
		{"unknown hop", "10.0.0.1:80", http.Header{"Forwarded": {"for=unknown"}}, "10.0.0.1"},
		{"all hops trusted", "10.0.0.1:80", http.Header{"X-Forwarded-For": {"10.4.4.4"}}, "10.4.4.4"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:80", http.Header{"X-Forwarded-For": {"198.51.100.9"}}, "198.51.100.9"},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Header: tt.header}
		if got := extract(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	direct := clientIPRule(t)
	for _, tt := range []struct{ remote, want string }{
		{"10.0.0.1:80", "10.0.0.1"},
		{"[2001:db8::1]:80", "2001:db8::1"},
		{"192.0.2.9", "192.0.2.9"}, // a bare address, as some servers report
		{"not an address", ""},
	} {
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{"X-Forwarded-For": {"1.2.3.4"}}}
		if got := direct(r); got != tt.want {
			t.Errorf("no trusted proxies, RemoteAddr %q: %q, want %q", tt.remote, got, tt.want)
		}
	}
}

// TestClientIPRejectsBadEntries checks that the trusted list is validated
// where it is used: every bad entry is reported, as a *fielderr.Error for
// TrustedProxies, which the service maps to http.trusted_proxies.
func TestClientIPRejectsBadEntries(t *testing.T) {
	rule, err := NewClientIP([]string{"10.0.0.0/8", "proxy.internal", "10.0.0.0/33", "::1"})
	if rule != nil || err == nil {
		t.Fatalf("NewClientIP = %t, %v; want no rule and an error", rule != nil, err)
	}
	list := fielderr.All(err)
	if len(list) != 2 {
		t.Fatalf("%d problems (%v), want 2", len(list), err)
	}
	for i, bad := range []string{`"proxy.internal"`, `"10.0.0.0/33"`} {
		var fe *fielderr.Error
		if !errors.As(list[i], &fe) || fe.Field != "TrustedProxies" || !strings.Contains(fe.Error(), bad) {
			t.Errorf("problem %d = %v, want TrustedProxies naming %s", i, list[i], bad)
		}
	}
}

// FuzzClientIP feeds arbitrary Forwarded and X-Forwarded-For values,
// which any client can send: the rule never panics and answers an
// address, never header text.
func FuzzClientIP(f *testing.F) {
	f.Add(`for=198.51.100.2;proto=https`, "6.6.6.6, 10.0.0.2")
	f.Add(`for="[2001:db8::17]:4711", for=_x`, "")
	f.Add(`;;,=,for=,"`, ",,,")
	extract := clientIPRule(f, "10.0.0.0/8")
	f.Fuzz(func(t *testing.T, forwarded, xff string) {
		h := http.Header{}
		if forwarded != "" {
			h.Set("Forwarded", forwarded)
		}
		h.Set("X-Forwarded-For", xff)
		got := extract(&http.Request{RemoteAddr: "10.0.0.1:80", Header: h})
		if _, ok := parseHop(got); !ok {
			t.Fatalf("extracted %q, not an address", got)
		}
	})
}
