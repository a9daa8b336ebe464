package service

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/troupehq/troupe/actors/wasm"
	"github.com/troupehq/troupe/internal/wstest"
)

// publisherWAT publishes what it receives, less the first byte, on topic
// realtime.publish.feed when that byte is 'f', else on
// realtime.publish.other; its reply (after the status byte) is 0 when the
// host accepted the call and 1 when it refused it.
const publisherWAT = `(module
  (import "troupe" "publish" (func $publish (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "realtime.publish.feed")
  (data (i32.const 64) "realtime.publish.other")
  (func (export "troupe_abi_v1"))
  (func (export "troupe_alloc") (param $size i32) (result i32) (i32.const 1024))
  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (local $rc i64)
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 102))
      (then (local.set $rc (call $publish (i32.const 16) (i32.const 21)
        (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1)))))
      (else (local.set $rc (call $publish (i32.const 64) (i32.const 22)
        (i32.add (local.get $ptr) (i32.const 1)) (i32.sub (local.get $len) (i32.const 1))))))
    (i32.store8 (i32.const 511) (i32.const 0))
    (i32.store8 (i32.const 512) (i64.lt_s (local.get $rc) (i64.const 0)))
    (i64.or (i64.shl (i64.const 511) (i64.const 32)) (i64.const 2))))
`

// TestRealtimeComponentPublish: a WASM component publishes to a room
// through a topic grant (its room:publish), and is refused a room outside
// it.
func TestRealtimeComponentPublish(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	cdir := filepath.Join(dir, "pub")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "[component]\nname = \"pub\"\nversion = \"1.0.0\"\nwasm = \"pub.wasm\"\n" +
		"[security]\ncapabilities = [\"topic:publish:realtime.publish.feed\"]\n"
	if err := os.WriteFile(filepath.Join(cdir, wasm.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	assembleWAT(t, publisherWAT, filepath.Join(cdir, "pub.wasm"))
	r := start(t, componentEnv(dir, cache), WithAPI(realtimeAPI()))
	c := mustDialWS(t, r, "/api/v1/feed", nil)
	wstest.ReadType(t, c, "joined")

	if got, err := r.ask(t, "pub", `f{"n":1}`); err != nil || !bytes.Equal(asBytes(got), []byte{0}) {
		t.Fatalf("publishing to feed: %v, %v", got, err)
	}
	m := wstest.ReadType(t, c, "message")
	if data, _ := m["data"].(map[string]any); m["room"] != "feed" || data["n"] != float64(1) {
		t.Errorf("the component's publication: %v", m)
	}
	if got, err := r.ask(t, "pub", `o{"n":2}`); err != nil || !bytes.Equal(asBytes(got), []byte{1}) {
		t.Errorf("publishing to other without a grant: %v, %v; want refused", got, err)
	}
}

// asBytes is a reply's bytes, or nil for a reply of another type.
func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}
