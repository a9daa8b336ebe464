package guest

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestHeader(t *testing.T) {
	h := Header{}
	h.Set("content-type", "text/plain")
	h.Add("x-tag", "a")
	h.Add("X-Tag", "b")
	want := Header{"Content-Type": {"text/plain"}, "X-Tag": {"a", "b"}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("header = %v, want %v", h, want)
	}
	if got := h.Get("CONTENT-TYPE"); got != "text/plain" {
		t.Errorf("Get = %q", got)
	}
	if got := h.Get("missing"); got != "" {
		t.Errorf("Get(missing) = %q", got)
	}
	var nilHeader Header
	if got := nilHeader.Get("x"); got != "" {
		t.Errorf("nil Get = %q", got)
	}
}

// TestHTTPRequestDecodesABIExample decodes the kind 2 example of
// docs/wasm-abi.md.
func TestHTTPRequestDecodesABIExample(t *testing.T) {
	const doc = `{"method": "GET", "route": "/api/v2/notes/:id/summary", "params": {"id": "n1"},
 "query": {"lang": ["en"]}, "header": {"Accept": ["application/json"]},
 "body": "aGk=", "remote_ip": "192.0.2.1",
 "principal": {"subject": "alice", "kind": "user", "roles": ["admin"], "scopes": []}}`
	var req HTTPRequest
	if err := json.Unmarshal([]byte(doc), &req); err != nil {
		t.Fatal(err)
	}
	want := HTTPRequest{
		Method: "GET", Route: "/api/v2/notes/:id/summary", Params: map[string]string{"id": "n1"},
		Query: map[string][]string{"lang": {"en"}}, Header: Header{"Accept": {"application/json"}},
		Body: []byte("hi"), RemoteIP: "192.0.2.1",
		Principal: &Principal{Subject: "alice", Kind: "user", Roles: []string{"admin"}, Scopes: []string{}},
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("decoded %+v\nwant    %+v", req, want)
	}
	if req.Param("id") != "n1" || req.QueryValue("lang") != "en" || req.QueryValue("none") != "" {
		t.Error("Param or QueryValue disagree with the decoded request")
	}
}

func TestJSONResponse(t *testing.T) {
	resp, err := JSONResponse(200, map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.Header.Get("Content-Type") != "application/json" || string(resp.Body) != `{"n":1}` {
		t.Errorf("response = %+v", resp)
	}
	if _, err := JSONResponse(200, func() {}); err == nil {
		t.Error("JSONResponse of a func did not fail")
	}
}
