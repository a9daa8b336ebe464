package wasm

import (
	"strings"
	"testing"
)

// FuzzParseCapabilities checks that parsing never panics and that every
// accepted grant allows the very resource it names.
func FuzzParseCapabilities(f *testing.F) {
	for _, seed := range []string{
		"file:read:/data/input\nfile:write:/data/out",
		"network:outbound:api.example.com:443\nnetwork:outbound:[::1]:*",
		"actor:send:billing\nactor:request:*\nactor:send:w-*",
		"topic:publish:orders.*\ntopic:subscribe:orders.>",
		"kv:read:notes\nkv:write:notes",
		"file:read:/a/../b\nnetwork:outbound:::1:80\nbogus",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseCapabilities(strings.Split(in, "\n"))
		if err != nil {
			return
		}
		for _, c := range s.Capabilities() {
			r := c.Resource
			switch c.Kind {
			case "file":
				if !s.AllowsFile(r, c.Action == "write") || !s.AllowsFile(r+"/x", false) {
					t.Errorf("%v does not allow its own path", c)
				}
			case "network":
				i := strings.LastIndexByte(r, ':')
				port := 443
				if r[i+1:] != "*" {
					port = atoiPort(r[i+1:])
				}
				if !s.AllowsNetwork(r[:i], port) {
					t.Errorf("%v does not allow its own host", c)
				}
			case "actor":
				name := r
				if prefix, wild := strings.CutSuffix(r, "*"); wild {
					name = prefix + "x"
				}
				if !s.AllowsActor(c.Action, name) {
					t.Errorf("%v does not allow its own name", c)
				}
			case "topic":
				if c.Action == "subscribe" && !s.AllowsTopic("subscribe", r) {
					t.Errorf("%v does not cover itself", c)
				}
				s.AllowsTopic("publish", r)
			case "kv":
				if !s.AllowsKV(c.Action == "write", r) {
					t.Errorf("%v does not allow its own namespace", c)
				}
			}
		}
		s.FileMounts()
	})
}

// atoiPort parses a port the parser has already validated.
func atoiPort(p string) int {
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}
