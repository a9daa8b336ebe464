package wasm

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustCaps(t *testing.T, list ...string) CapabilitySet {
	t.Helper()
	s, err := ParseCapabilities(list)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseCapabilitiesAccepts(t *testing.T) {
	list := []string{
		"file:read:/data/input", "file:write:/data/out", "file:read:/",
		"network:outbound:api.example.com:443", "network:outbound:10.0.0.1:*",
		"network:outbound:[2001:db8::1]:8443", "network:outbound:Localhost:1",
		"actor:send:billing", "actor:request:*", "actor:send:worker-*", "actor:send:a/b.c_d",
		"topic:publish:orders.*", "topic:subscribe:orders.>", "topic:publish:a.b.c",
		"kv:read:notes", "kv:write:notes.v2_x-y",
	}
	s := mustCaps(t, list...)
	var got []string
	for _, c := range s.Capabilities() {
		got = append(got, c.String())
	}
	if !reflect.DeepEqual(got, list) {
		t.Errorf("Capabilities() = %v, want %v", got, list)
	}
}

// TestParseCapabilitiesRejects checks each rule and that the error names the
// entry by index and value.
func TestParseCapabilitiesRejects(t *testing.T) {
	tests := []struct{ cap, reason string }{
		{"", "want kind:action:resource"},
		{"file", "want kind:action:resource"},
		{"file:read", "want kind:action:resource"},
		{"file:read:", "want kind:action:resource"},
		{"disk:read:/x", `unknown kind "disk"`},
		{"file:exec:/bin", `unknown file action "exec"`},
		{"file:read:data", "must be absolute"},
		{"file:read:/data/", "must be clean"},
		{"file:read:/data/../etc", "must be clean"},
		{"file:read:/..", "must be clean"},
		{"file:read://data", "must be clean"},
		{"file:read:/data/./x", "must be clean"},
		{"file:read:/data\x00x", "control character"},
		{"file:read:/data\nx", "control character"},
		{"network:inbound:a.com:80", `unknown network action "inbound"`},
		{"network:outbound:a.com", "must be host:port"},
		{"network:outbound:a.com:0", "must be 1-65535"},
		{"network:outbound:a.com:65536", "must be 1-65535"},
		{"network:outbound:a.com:080", "must be 1-65535"},
		{"network:outbound:a.com:+80", "must be 1-65535"},
		{"network:outbound:a.com:", "must be 1-65535"},
		{"network:outbound::80", "not a DNS name"},
		{"network:outbound:::1:80", "must be in brackets"},
		{"network:outbound:[::1:80", "bracketed IPv6"},
		{"network:outbound:[10.0.0.1]:80", "bracketed IPv6"},
		{"network:outbound:[fe80::1%eth0]:80", "bracketed IPv6"},
		{"network:outbound:*.example.com:443", "not a DNS name"},
		{"network:outbound:-a.com:443", "not a DNS name"},
		{"network:outbound:a..com:443", "not a DNS name"},
		{"network:outbound:a.com.:443", "not a DNS name"},
		{"network:outbound:1.2.3.999:443", "not a DNS name"},
		{"network:outbound:" + strings.Repeat("a", 64) + ".com:443", "not a DNS name"},
		{"actor:kill:billing", `unknown actor action "kill"`},
		{"actor:send:bill*ing", "must be *"},
		{"actor:send:**", "must be *"},
		{"actor:send:-x", "must be *"},
		{"actor:send:a b", "must be *"},
		{"topic:consume:orders", `unknown topic action "consume"`},
		{"topic:publish:orders..x", "empty token"},
		{"topic:subscribe:orders.>.x", `">" before the last token`},
		{"topic:publish:ord*", "inside a token"},
		{"kv:delete:notes", `unknown kv action "delete"`},
		{"kv:read:Notes", "must match"},
		{"kv:read:1notes", "must match"},
		{"kv:read:no/tes", "must match"},
	}
	for _, tt := range tests {
		t.Run(tt.cap, func(t *testing.T) {
			s, err := ParseCapabilities([]string{"kv:read:ok", tt.cap})
			var ce *CapabilityError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CapabilityError", err)
			}
			if ce.Index != 1 || ce.Value != tt.cap || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %q, want index 1, value %q and %q", err, tt.cap, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "capability [1] ") {
				t.Errorf("err = %q does not name the entry", err)
			}
			if s.AllowsKV(false, "ok") {
				t.Error("a failed parse still grants the valid entries")
			}
		})
	}
}

func TestParseCapabilitiesDuplicatesAndJoin(t *testing.T) {
	_, err := ParseCapabilities([]string{"kv:read:a", "bogus", "kv:read:a", "file:read:x"})
	msg := err.Error()
	for _, want := range []string{`capability [1] "bogus"`, `capability [2] "kv:read:a": duplicate of capability [0]`, `capability [3] "file:read:x"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestAllowsFile(t *testing.T) {
	s := mustCaps(t, "file:read:/data/input", "file:write:/data/out")
	tests := []struct {
		path  string
		write bool
		want  bool
	}{
		{"/data/input", false, true},
		{"/data/input/a/b.txt", false, true},
		{"/data/input/a/b.txt", true, false},
		{"/data/input2", false, false},
		{"/data/input/../secret", false, false},
		{"/data/input/../../etc/passwd", false, false},
		{"/data/out/x", true, true},
		{"/data/out/x", false, true}, // write implies read
		{"/data/out/../input/x", true, false},
		{"/data/out/./x/", true, true},
		{"data/input", false, false},
		{"", false, false},
		{"/data", false, false},
		{"/data/input/\x00", false, false},
	}
	for _, tt := range tests {
		if got := s.AllowsFile(tt.path, tt.write); got != tt.want {
			t.Errorf("AllowsFile(%q, %v) = %v, want %v", tt.path, tt.write, got, tt.want)
		}
	}
	if !mustCaps(t, "file:read:/").AllowsFile("/etc/passwd", false) {
		t.Error("a root grant does not cover its subtree")
	}
}

func TestAllowsNetwork(t *testing.T) {
	s := mustCaps(t, "network:outbound:api.example.com:443", "network:outbound:10.0.0.1:*",
		"network:outbound:[2001:db8::1]:8443", "network:outbound:[::ffff:192.0.2.1]:80")
	tests := []struct {
		host string
		port int
		want bool
	}{
		{"api.example.com", 443, true},
		{"API.Example.COM", 443, true},
		{"api.example.com", 80, false},
		{"example.com", 443, false},
		{"evil.api.example.com", 443, false},
		{"api.example.com.evil", 443, false},
		{"10.0.0.1", 1, true},
		{"10.0.0.1", 65535, true},
		{"10.0.0.1", 0, false},
		{"10.0.0.1", 65536, false},
		{"10.0.0.2", 80, false},
		{"2001:db8::1", 8443, true},
		{"[2001:db8:0::1]", 8443, true},
		{"2001:db8::1", 443, false},
		{"192.0.2.1", 80, true},
		{"::ffff:10.0.0.1", 80, true},
		{"", 443, false},
	}
	for _, tt := range tests {
		if got := s.AllowsNetwork(tt.host, tt.port); got != tt.want {
			t.Errorf("AllowsNetwork(%q, %d) = %v, want %v", tt.host, tt.port, got, tt.want)
		}
	}
}

func TestAllowsActor(t *testing.T) {
	s := mustCaps(t, "actor:send:billing", "actor:send:worker-*", "actor:request:*")
	tests := []struct {
		action, name string
		want         bool
	}{
		{"send", "billing", true},
		{"send", "billing2", false},
		{"send", "worker-", true},
		{"send", "worker-7", true},
		{"send", "worker", false},
		{"send", "other", false},
		{"request", "anything", true},
		{"request", "", false},
		{"spawn", "billing", false},
	}
	for _, tt := range tests {
		if got := s.AllowsActor(tt.action, tt.name); got != tt.want {
			t.Errorf("AllowsActor(%q, %q) = %v, want %v", tt.action, tt.name, got, tt.want)
		}
	}
	if mustCaps(t, "actor:send:*").AllowsActor("request", "billing") {
		t.Error("send grants request")
	}
}

func TestAllowsTopic(t *testing.T) {
	s := mustCaps(t, "topic:publish:orders.*", "topic:publish:audit.>", "topic:subscribe:orders.>", "topic:subscribe:news.*.today")
	tests := []struct {
		action, subject string
		want            bool
	}{
		{"publish", "orders.created", true},
		{"publish", "orders.created.eu", false},
		{"publish", "orders", false},
		{"publish", "orders.*", false}, // a wildcard is not a subject
		{"publish", "audit.a.b.c", true},
		{"publish", "audit", false},
		{"publish", "news.x.today", false},
		{"subscribe", "orders.eu", true},
		{"subscribe", "orders.*", true},
		{"subscribe", "orders.>", true},
		{"subscribe", "orders.*.created", true},
		{"subscribe", "orders", false},
		{"subscribe", ">", false},
		{"subscribe", "news.*.today", true},
		{"subscribe", "news.bbc.today", true},
		{"subscribe", "news.>", false},
		{"subscribe", "news.*.>", false},
		{"subscribe", "news.bbc.*", false},
		{"subscribe", "news.bbc.today.x", false},
		{"subscribe", "orders..x", false},
		{"unsubscribe", "orders.eu", false},
	}
	for _, tt := range tests {
		if got := s.AllowsTopic(tt.action, tt.subject); got != tt.want {
			t.Errorf("AllowsTopic(%q, %q) = %v, want %v", tt.action, tt.subject, got, tt.want)
		}
	}
}

func TestAllowsKV(t *testing.T) {
	s := mustCaps(t, "kv:read:notes", "kv:write:drafts")
	tests := []struct {
		write bool
		ns    string
		want  bool
	}{
		{false, "notes", true},
		{true, "notes", false},
		{true, "drafts", true},
		{false, "drafts", false}, // write does not imply read for KV
		{false, "notes2", false},
		{false, "", false},
	}
	for _, tt := range tests {
		if got := s.AllowsKV(tt.write, tt.ns); got != tt.want {
			t.Errorf("AllowsKV(%v, %q) = %v, want %v", tt.write, tt.ns, got, tt.want)
		}
	}
}

func TestFileMounts(t *testing.T) {
	s := mustCaps(t, "file:read:/srv/b", "file:read:/srv/a", "file:write:/srv/a", "file:write:/srv/c", "kv:read:x")
	want := []Mount{{"/srv/a", false}, {"/srv/b", true}, {"/srv/c", false}}
	if got := s.FileMounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("FileMounts() = %v, want %v", got, want)
	}
}

func TestZeroSetDeniesEverything(t *testing.T) {
	var s CapabilitySet
	if s.AllowsFile("/", false) || s.AllowsNetwork("a.com", 443) || s.AllowsActor("send", "a") ||
		s.AllowsTopic("publish", "a") || s.AllowsKV(false, "a") || len(s.FileMounts()) != 0 {
		t.Error("the zero CapabilitySet grants something")
	}
}
