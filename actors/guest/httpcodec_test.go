package guest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// showcaseRequest is the kind 2 message of GET /api/v2/notes/3/summary as
// the host encodes it behind the service's middleware.
const showcaseRequest = `{"method":"GET","route":"/api/v2/notes/:id/summary","params":{"id":"3"},` +
	`"header":{"Accept":["*/*"],"User-Agent":["wrk"],"X-Request-Id":["F5DLRDVX2UNRREEXR5LNP5OEXJ"],` +
	`"Traceparent":["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]},"remote_ip":"127.0.0.1"}`

// requestSeeds are kind 2 messages for the codec's fuzz target and its
// table test: what the host sends, and what encoding/json treats in its
// own way (null, repeated and case-folded keys, escapes, bad base64).
var requestSeeds = []string{
	showcaseRequest,
	`{"method":"POST","body":"aGVsbG8=","query":{"q":["a","b"],"e":[]},"principal":{"subject":"u1","kind":"user","roles":["admin"],"scopes":[]}}`,
	`null`, ` {} `, `{"METHOD":"GET","ReMoTe_Ip":"::1","ſubject":"x"}`,
	`{"principal":{"ſubject":"s","KIND":"k"}}`,
	`{"method":null,"params":null,"query":{"a":null,"b":[null,"x"]},"principal":null,"body":null}`,
	`{"params":{"a":"1"},"params":{"b":"2","a":null}}`,
	`{"principal":{"roles":["a","b"]},"principal":{"roles":[null]}}`,
	`{"route":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t","header":{"K\u0041":["\u2028"]}}`,
	"{\"method\":\"\xff\xfe ok\"}",
	`{"body":"aGVsbG8"}`, `{"body":"aGVs\nbG8="}`, `{"body":"aGVs\/bG8="}`, `{"body":""}`,
	`{"method":3}`, `{"params":{"a":1}}`, `{"principal":[]}`, `{"unknown":{"deep":[1,2.5e-3,true,false,null]}}`,
	`{"method":"GET",}`, `{"method":"GET"} x`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":"\x"}`,
	"{\"a\":\"\x01\"}", `{"a":tru}`, `[]`, ``, "\v{}",
}

func TestDecodeHTTPRequestMatchesEncodingJSON(t *testing.T) {
	for _, msg := range requestSeeds {
		checkDecodeMatches(t, []byte(msg))
	}
}

// FuzzDecodeHTTPRequest checks the guest's own decoder against
// encoding/json, which it replaces: for any message, both accept or both
// reject, and what they accept decodes to the same request.
func FuzzDecodeHTTPRequest(f *testing.F) {
	for _, msg := range requestSeeds {
		f.Add([]byte(msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) { checkDecodeMatches(t, msg) })
}

func checkDecodeMatches(t *testing.T, msg []byte) {
	t.Helper()
	var got, want HTTPRequest
	gotErr := decodeHTTPRequest(msg, &got)
	wantErr := json.Unmarshal(msg, &want)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("decode(%q): error %v; encoding/json: %v", msg, gotErr, wantErr)
	case gotErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("decode(%q) = %#v\nencoding/json: %#v", msg, got, want)
	}
}

// FuzzEncodeHTTPResponse checks that what the guest writes is what it
// meant for the host, which reads it with encoding/json.
func FuzzEncodeHTTPResponse(f *testing.F) {
	f.Add(200, "Content-Type", "application/json", []byte(`{"id":3}`))
	f.Add(0, "", "", []byte(nil))
	f.Add(404, "X-\"Q\"", "\xff\x00\u2028<&>", []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, status int, key, value string, body []byte) {
		in := HTTPResponse{Status: status, Body: body}
		if key != "" {
			in.Header = Header{key: {value, strings.ToUpper(value)}, "Vary": nil}
		}
		out := encodeHTTPResponse(nil, &in)
		var back HTTPResponse
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("encodeHTTPResponse(%#v) = %q, not JSON: %v", in, out, err)
		}
		// What encoding/json itself would have sent, read back the same way.
		std, _ := json.Marshal(&in)
		var want HTTPResponse
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("encodeHTTPResponse(%#v) reads back as %#v; encoding/json's as %#v", in, back, want)
		}
	})
}
