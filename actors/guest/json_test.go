package guest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestJSONWriter(t *testing.T) {
	var w JSONWriter
	if got := string(w.Bytes()); got != "{}" {
		t.Fatalf("empty writer: %s, want {}", got)
	}
	w.Int("id", -3)
	w.Str("title", "a \"b\"\n\\ é \x01\xff")
	w.Bool("ok", true)
	var inner JSONWriter
	inner.Str("k", "v")
	w.RawJSON("note", inner.Bytes())
	out := w.Bytes()
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s is not JSON: %v", out, err)
	}
	want := map[string]any{"id": -3.0, "title": "a \"b\"\n\\ é \x01\uFFFD", "ok": true, "note": map[string]any{"k": "v"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s decodes to %#v, want %#v", out, got, want)
	}
	w.Reset(out)
	w.Str("x", "y")
	if got := string(w.Bytes()); got != `{"x":"y"}` {
		t.Fatalf("after Reset: %s", got)
	}
}

func TestScanJSONObject(t *testing.T) {
	var keys []string
	var id int
	var title string
	var deleted bool
	err := ScanJSONObject([]byte(` {"note":{"id":3,"title":"T\u00e9"},"deleted":false,"n":null} `), func(key string, v JSONValue) error {
		keys = append(keys, key)
		switch key {
		case "note":
			return v.Object(func(key string, v JSONValue) error {
				var err error
				switch key {
				case "id":
					id, err = v.AsInt()
				case "title":
					title, err = v.AsString()
				}
				return err
			})
		case "deleted":
			var err error
			deleted, err = v.AsBool()
			return err
		case "n":
			if !v.IsNull() {
				t.Errorf("n: IsNull false for %s", v.Raw())
			}
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(keys, []string{"note", "deleted", "n"}) || id != 3 || title != "Té" || deleted {
		t.Fatalf("keys %q, id %d, title %q, deleted %v, err %v", keys, id, title, deleted, err)
	}
}

func TestScanJSONErrors(t *testing.T) {
	stop := errors.New("stop")
	cases := []struct {
		name, doc string
		f         func(string, JSONValue) error
		want      string
	}{
		{"not an object", `[1]`, nil, "want an object"},
		{"truncated", `{"a":`, nil, "unexpected end of input"},
		{"trailing data", `{} {}`, nil, "unexpected data after the value"},
		{"callback error", `{"a":1,"b":2}`, func(string, JSONValue) error { return stop }, "stop"},
		{"string as int", `{"a":"1"}`, func(_ string, v JSONValue) error { _, err := v.AsInt(); return err }, "want an integer"},
		{"fraction as int", `{"a":1.5}`, func(_ string, v JSONValue) error { _, err := v.AsInt(); return err }, "want an integer"},
		{"number as string", `{"a":1}`, func(_ string, v JSONValue) error { _, err := v.AsString(); return err }, "want a string"},
		{"null as bool", `{"a":null}`, func(_ string, v JSONValue) error { _, err := v.AsBool(); return err }, "want a boolean"},
		{"too deep", `{"a":` + strings.Repeat("[", maxJSONDepth+1), nil, "nested too deeply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			if f == nil {
				f = func(string, JSONValue) error { return nil }
			}
			err := ScanJSONObject([]byte(c.doc), f)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ScanJSONObject(%.40q) = %v, want an error containing %q", c.doc, err, c.want)
			}
		})
	}
	var n int
	if err := ScanJSONArray([]byte(`[1, "a", {}, []]`), func(JSONValue) error { n++; return nil }); err != nil || n != 4 {
		t.Fatalf("ScanJSONArray: %d elements, %v", n, err)
	}
	if err := ScanJSONArray([]byte(`{}`), nil); err == nil {
		t.Fatal("ScanJSONArray accepted an object")
	}
}

// FuzzScanJSONObject checks the scanner's syntax against encoding/json's:
// a document is accepted exactly when it is a valid JSON object.
func FuzzScanJSONObject(f *testing.F) {
	for _, msg := range requestSeeds {
		f.Add([]byte(msg))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := ScanJSONObject(doc, func(string, JSONValue) error { return nil })
		var obj map[string]json.RawMessage
		stdErr := json.Unmarshal(doc, &obj)
		isObject := stdErr == nil && obj != nil
		if (err == nil) != isObject {
			t.Fatalf("ScanJSONObject(%q) = %v; encoding/json: %v, object %v", doc, err, stdErr, isObject)
		}
	})
}
