package wasm_test

import (
	"fmt"

	"github.com/troupehq/troupe/actors/wasm"
)

func ExampleParseManifest() {
	m, err := wasm.ParseManifest([]byte(`
[component]
name = "summarizer"
version = "1.0.0"
wasm = "summarizer.wasm"

[security]
capabilities = ["topic:publish:notes.*", "kv:read:notes", "file:read:/data/input"]
`), "/srv/components/summarizer")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.WASMPath(), m.Runtime.MaxMemoryMB, m.Monitoring.LogLevel)
	fmt.Println(m.Caps.AllowsTopic("publish", "notes.created"), m.Caps.AllowsKV(true, "notes"))
	fmt.Println(m.Caps.FileMounts())

	_, err = wasm.ParseManifest([]byte("[component]\nname = \"x\"\nversion = \"1\"\nwasm = \"x.wasm\"\n[runtime]\nmax_memry_mb = 8\n"), ".")
	fmt.Println(err)
	// Output:
	// /srv/components/summarizer/summarizer.wasm 64 info
	// true false
	// [{/data/input true}]
	// runtime.max_memry_mb: unknown key
}

func ExampleParseCapabilities() {
	caps, err := wasm.ParseCapabilities([]string{"network:outbound:api.example.com:443", "actor:send:worker-*"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(caps.AllowsNetwork("api.example.com", 443), caps.AllowsNetwork("api.example.com", 80))
	fmt.Println(caps.AllowsActor("send", "worker-3"), caps.AllowsActor("request", "worker-3"))

	_, err = wasm.ParseCapabilities([]string{"file:read:/data/../etc"})
	fmt.Println(err)
	// Output:
	// true false
	// true false
	// capability [0] "file:read:/data/../etc": file path "/data/../etc" must be clean (no .., ., // or trailing /)
}
