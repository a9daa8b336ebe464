package abi

import (
	"reflect"
	"testing"
)

// FuzzHTTPBinary checks that the binary layout round-trips what the host
// and the guest put in it, nil against empty included, and that any bytes
// at all decode to a value or an error, without panicking or allocating
// past the message.
func FuzzHTTPBinary(f *testing.F) {
	f.Add("GET", "/api/v2/notes/:id/summary", "id", "3", "Accept", "*/*", []byte(nil), "alice", true, uint8(0))
	f.Add("", "", "", "", "", "", []byte{}, "", false, uint8(7))
	f.Fuzz(func(t *testing.T, method, route, key, value, hkey, hvalue string, body []byte, subject string, principal bool, nils uint8) {
		req := &HTTPRequest{Method: method, Route: route, RemoteIP: value, Params: map[string]string{key: value},
			Query: map[string][]string{key: {value, ""}, hkey: {}}, Header: Header{hkey: {hvalue}, key: nil}, Body: body}
		if nils&1 != 0 {
			req.Params = nil
		}
		if nils&2 != 0 {
			req.Query = nil
		}
		if nils&4 != 0 {
			req.Header = map[string][]string{}
		}
		if principal {
			req.Principal = &Principal{Subject: subject, Kind: "user", Roles: []string{}, Scopes: []string{hvalue}}
		}
		got, err := DecodeHTTPRequest(AppendHTTPRequest(nil, req))
		if err != nil || !reflect.DeepEqual(got, req) {
			t.Fatalf("request %#v round-trips to %#v, %v", req, got, err)
		}
		resp := &HTTPResponse{Status: len(body), Header: req.Header, Body: body}
		back, err := DecodeHTTPResponse(AppendHTTPResponse(nil, resp))
		if err != nil || !reflect.DeepEqual(back, resp) {
			t.Fatalf("response %#v round-trips to %#v, %v", resp, back, err)
		}
		// The fields' bytes, read as a message of their own.
		_, _ = DecodeHTTPRequest(body)
		_, _ = DecodeHTTPResponse(body)
	})
}

func TestHTTPBinaryRejects(t *testing.T) {
	ok := AppendHTTPRequest(nil, &HTTPRequest{Method: "GET", Principal: &Principal{Subject: "a"}})
	cases := map[string][]byte{
		"empty":          {},
		"truncated":      ok[:len(ok)-1],
		"trailing bytes": append(ok[:len(ok):len(ok)], 0),
		"huge count":     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff},
		"bad flag":       AppendHTTPRequest(nil, &HTTPRequest{})[:28],
	}
	cases["bad flag"] = append(cases["bad flag"], 2, 0, 0, 0)
	for name, b := range cases {
		if _, err := DecodeHTTPRequest(b); err == nil {
			t.Errorf("%s: DecodeHTTPRequest(%x) succeeded", name, b)
		}
	}
	if _, err := DecodeHTTPResponse([]byte{200, 0, 0}); err == nil {
		t.Error("DecodeHTTPResponse accepted a truncated status")
	}
}
