package wasmfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mod assembles a module from sections, each an id and its content.
func mod(sections ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range sections {
		b = append(b, s[0])
		b = binary.AppendUvarint(b, uint64(len(s)-1))
		b = append(b, s[1:]...)
	}
	return b
}

func sec(id byte, parts ...[]byte) []byte { return append([]byte{id}, bytes.Join(parts, nil)...) }

func name(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }

func u(n uint64) []byte { return binary.AppendUvarint(nil, n) }

// sample imports troupe.send and a memory, defines one function and
// exports it and the memory.
func sample() []byte {
	return mod(
		sec(secType, u(2), []byte{0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7e}, []byte{0x60, 1, 0x7f, 1, 0x7f}),
		sec(secImport, u(2),
			name("troupe"), name("send"), []byte{byte(Func)}, u(0),
			name("env"), name("memory"), []byte{byte(Memory), 0x01}, u(2), u(512)),
		sec(secFunction, u(1), u(1)),
		sec(secExport, u(2), name("troupe_alloc"), []byte{byte(Func)}, u(1), name("memory"), []byte{byte(Memory)}, u(0)),
		sec(secCustom, name("producers"), []byte("payload")),
	)
}

func TestParseSample(t *testing.T) {
	m, err := Parse(sample())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Imports) != 2 || m.Imports[0].Module != "troupe" || m.Imports[0].Name != "send" || m.Imports[0].Type.String() != "(i32 i32 i32 i32) -> i64" {
		t.Fatalf("imports = %+v", m.Imports)
	}
	if l := m.Imports[1].Limits; l == nil || l.Min != 2 || !l.HasMax || l.Max != 512 {
		t.Errorf("memory import limits = %+v", l)
	}
	if len(m.Exports) != 2 || m.Exports[0].Name != "troupe_alloc" || m.Exports[0].Type.String() != "(i32) -> i32" || m.Exports[1].Kind != Memory {
		t.Errorf("exports = %+v", m.Exports)
	}
	if m.Functions != 1 || len(m.Custom) != 1 || m.Custom[0] != "producers" {
		t.Errorf("functions %d, custom %v", m.Functions, m.Custom)
	}
}

func TestParseRejectsMalformedInput(t *testing.T) {
	big := u(1 << 40)
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":             {nil, "not a WebAssembly module"},
		"text":              {[]byte("(module)"), "not a WebAssembly module"},
		"short header":      {[]byte("\x00asm\x01"), "truncated"},
		"component":         {[]byte("\x00asm\x0d\x00\x01\x00"), "only version 1"},
		"section too long":  {append(mod(), secImport, 0x10, 0x00), "truncated"},
		"huge count":        {mod(sec(secImport, u(1_000_000_000))), "declares 1000000000 entries in 0 bytes"},
		"name past the end": {mod(sec(secExport, u(1), u(200), []byte("ab"))), "truncated"},
		"bad utf-8":         {mod(sec(secExport, u(1), name("\xff"), []byte{0}, u(0))), "not valid UTF-8"},
		"max below min":     {mod(sec(secMemory, u(1), []byte{0x01}, u(5), u(1))), "maximum 1 below minimum 5"},
		"unknown limits":    {mod(sec(secMemory, u(1), []byte{0x09}, u(1))), "unknown limits flags"},
		"unknown import":    {mod(sec(secImport, u(1), name("a"), name("b"), []byte{9})), "unknown kind 9"},
		"leb overflow":      {mod(sec(secFunction, u(1), big)), "overflows 32 bits"},
		"left over":         {mod(sec(secFunction, u(1), u(0), []byte{0})), "1 bytes left over"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v; want %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("hello")); !errors.Is(err, ErrNotWasm) {
		t.Errorf("not wasm: %v", err)
	}
}

// TestParseEveryTruncation: every prefix of a valid module is an error or
// a smaller module, never a panic.
func TestParseEveryTruncation(t *testing.T) {
	full := sample()
	for n := range len(full) {
		if m, err := Parse(full[:n]); err == nil && len(m.Imports)+len(m.Exports) > 4 {
			t.Errorf("prefix %d parsed into more than the module holds: %+v", n, m)
		}
	}
}

// TestParseUnknownTypeForms: a type section in a grammar the reader does
// not know leaves signatures unknown, not the module unreadable.
func TestParseUnknownTypeForms(t *testing.T) {
	m, err := Parse(mod(sec(secType, u(1), []byte{0x4e, 0x00}), sec(secImport, u(1), name("troupe"), name("log"), []byte{0}, u(0))))
	if err != nil || len(m.Imports) != 1 || m.Imports[0].Type != nil {
		t.Errorf("Parse = %+v, %v", m, err)
	}
}

// TestParseAgreesWithWat2wasm reads a module wabt encoded.
func TestParseAgreesWithWat2wasm(t *testing.T) {
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("wat2wasm not found on PATH (CI is set, so this is a failure)")
		}
		t.Skip("!!! SKIPPED: wat2wasm not found on PATH; install wabt to run this test !!!")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "m.wat")
	if err := os.WriteFile(src, []byte(`(module
  (import "troupe" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i64)))
  (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 17 1024)
  (func (export "troupe_abi_v1"))
  (func (export "troupe_alloc") (param i32) (result i32) (local.get 0))
  (func (export "troupe_receive") (param i32 i32 i32) (result i64) (i64.const 0)))`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "m.wasm")
	if msg, err := exec.Command(bin, src, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range m.Imports {
		got = append(got, i.Module+"."+i.Name+" "+i.Type.String())
	}
	for _, e := range m.Exports {
		sig := ""
		if e.Type != nil {
			sig = " " + e.Type.String()
		}
		got = append(got, e.Kind.String()+" "+e.Name+sig)
	}
	want := []string{
		"troupe.kv_get (i32 i32 i32 i32) -> i64",
		"wasi_snapshot_preview1.path_open (i32 i32 i32 i32 i32 i64 i64 i32 i32) -> i32",
		"memory memory",
		"func troupe_abi_v1 () -> ()",
		"func troupe_alloc (i32) -> i32",
		"func troupe_receive (i32 i32 i32) -> i64",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parsed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(m.Memories) != 1 || m.Memories[0].Min != 17 || m.Memories[0].Max != 1024 || m.Functions != 3 {
		t.Errorf("memories %+v, functions %d", m.Memories, m.Functions)
	}
}

// FuzzParse feeds Parse arbitrary bytes: it must return, without panic,
// and never report more entries than the input has bytes.
func FuzzParse(f *testing.F) {
	f.Add(sample())
	f.Add(mod())
	f.Add(mod(sec(secMemory, u(1), []byte{0x07}, u(1), u(2))))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if n := len(m.Imports) + len(m.Exports) + len(m.Memories) + m.Functions + len(m.Custom); n > len(data) {
			t.Fatalf("%d entries from %d bytes", n, len(data))
		}
		for _, i := range m.Imports {
			if i.Type != nil {
				_ = i.Type.String()
			}
		}
	})
}
