package guest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
)

// The kind 2 messages are JSON (docs/wasm-abi.md), read and written here
// by hand rather than with encoding/json: in a guest, encoding/json took
// ~280 µs to decode the showcase's request and ~55 µs to encode its
// response, most of the route's cost; this codec takes a small fraction
// of that (docs/benchmarks.md, issue 19 item 3). It accepts exactly what
// encoding/json accepts into HTTPRequest and decodes it to the same value
// (FuzzDecodeHTTPRequest compares them): keys match case-insensitively
// when no exact match exists, null leaves a field as encoding/json leaves
// it, and a repeated key merges into what an earlier one decoded.

// requestFields and principalFields are the JSON names of the fields.
var (
	requestFields   = []string{"method", "route", "params", "query", "header", "body", "remote_ip", "principal"}
	principalFields = []string{"subject", "kind", "roles", "scopes"}
)

// fieldName returns the field that key names: an exact match, else one
// equal under Unicode case folding, as encoding/json matches; "" for none.
func fieldName(key string, fields []string) string {
	for _, f := range fields {
		if key == f {
			return f
		}
	}
	for _, f := range fields {
		if bytes.EqualFold([]byte(key), []byte(f)) {
			return f
		}
	}
	return ""
}

// decodeHTTPRequest decodes a kind 2 message into req.
func decodeHTTPRequest(msg []byte, req *HTTPRequest) error {
	doc := string(msg) // the one copy every string of req is part of
	if isJSONNull(doc) {
		return nil // encoding/json leaves the value alone
	}
	return scanObject(doc, func(key string, v JSONValue) error {
		var err error
		switch fieldName(key, requestFields) {
		case "method":
			err = decodeString(v, &req.Method)
		case "route":
			err = decodeString(v, &req.Route)
		case "remote_ip":
			err = decodeString(v, &req.RemoteIP)
		case "params":
			req.Params, err = decodeStringMap(v, req.Params)
		case "query":
			req.Query, err = decodeListMap(v, req.Query)
		case "header":
			req.Header, err = decodeListMap(v, req.Header)
		case "body":
			req.Body, err = decodeBase64(v)
		case "principal":
			req.Principal, err = decodePrincipal(v, req.Principal)
		}
		return err
	})
}

// isJSONNull reports whether msg is null between JSON white space.
func isJSONNull(msg string) bool {
	s := jsonScanner{data: msg}
	s.space()
	if s.literal("null") != nil {
		return false
	}
	s.space()
	return s.pos == len(msg)
}

// decodeString sets *dst to a string value; null leaves it.
func decodeString(v JSONValue, dst *string) error {
	if v.IsNull() {
		return nil
	}
	s, err := v.AsString()
	if err == nil {
		*dst = s
	}
	return err
}

// decodeStringList decodes an array of strings, or null as nil. As
// encoding/json decodes into an existing slice, element i starts as
// old[i], which a null element keeps ("" past old's end).
func decodeStringList(v JSONValue, old []string) ([]string, error) {
	if v.IsNull() {
		return nil, nil
	}
	list := []string{}
	err := v.Array(func(e JSONValue) error {
		var s string
		if i := len(list); i < len(old) {
			s = old[i]
		}
		err := decodeString(e, &s)
		list = append(list, s)
		return err
	})
	return list, err
}

// decodeStringMap decodes an object of strings into m (made when nil);
// null is a nil map.
func decodeStringMap(v JSONValue, m map[string]string) (map[string]string, error) {
	if v.IsNull() {
		return nil, nil
	}
	if m == nil {
		m = map[string]string{}
	}
	return m, v.Object(func(key string, e JSONValue) error {
		var s string // a map element starts from zero, even over a key seen before
		if err := decodeString(e, &s); err != nil {
			return err
		}
		m[key] = s
		return nil
	})
}

// decodeListMap decodes an object of string arrays into m (made when
// nil); null is a nil map.
func decodeListMap[M ~map[string][]string](v JSONValue, m M) (M, error) {
	if v.IsNull() {
		return nil, nil
	}
	if m == nil {
		m = M{}
	}
	return m, v.Object(func(key string, e JSONValue) error {
		list, err := decodeStringList(e, nil)
		m[key] = list
		return err
	})
}

// decodeBase64 decodes a standard base64 string as encoding/json decodes
// a []byte; null is nil.
func decodeBase64(v JSONValue) ([]byte, error) {
	if v.IsNull() {
		return nil, nil
	}
	s, err := v.AsString()
	if err != nil {
		return nil, errNotJSON("a base64 string", v.Raw())
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, []byte(s))
	if err != nil {
		return nil, errors.New("json: body is not base64: " + err.Error())
	}
	return b[:n], nil
}

// decodePrincipal decodes a principal object into p (made when nil);
// null is nil.
func decodePrincipal(v JSONValue, p *Principal) (*Principal, error) {
	if v.IsNull() {
		return nil, nil
	}
	if p == nil {
		p = &Principal{}
	}
	return p, v.Object(func(key string, e JSONValue) error {
		var err error
		switch fieldName(key, principalFields) {
		case "subject":
			err = decodeString(e, &p.Subject)
		case "kind":
			err = decodeString(e, &p.Kind)
		case "roles":
			p.Roles, err = decodeStringList(e, p.Roles)
		case "scopes":
			p.Scopes, err = decodeStringList(e, p.Scopes)
		}
		return err
	})
}

// encodeHTTPResponse appends r as the kind 2 reply's JSON to b.
func encodeHTTPResponse(b []byte, r *HTTPResponse) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	if len(r.Header) > 0 {
		b = append(b, `,"header":{`...)
		first := true
		for k, vs := range r.Header {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendStringList(b, vs)
		}
		b = append(b, '}')
	}
	if len(r.Body) > 0 {
		b = append(b, `,"body":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Body)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendStringList appends vs as a JSON array of strings; nil is null, as
// encoding/json writes it.
func appendStringList(b []byte, vs []string) []byte {
	if vs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}
