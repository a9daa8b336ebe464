package main

import (
	"github.com/troupehq/troupe/bench/load/internal/loadserver"
	"github.com/troupehq/troupe/bench/load/internal/troupeserver"
)

// Aliases for what every mode shares with the server binaries.
const helloPath = loadserver.Path

var wantBody = loadserver.Body

// serverKind is a server configuration the harness can measure: in this
// process (start), or alone in a pinned process of its own binary.
type serverKind struct {
	key  string // in benchmark names
	name string // in reports
	// start builds and starts the server in this process on 127.0.0.1:0.
	start func() (*loadserver.Server, error)
	// pkg is the server binary's package, relative to bench/load, and args
	// its arguments.
	pkg  string
	args []string
	// authorization returns the Authorization header client i sends, or ""
	// for none.
	authorization func(client int) (string, error)
}

// The kinds measured. The Troupe ones differ from bare Echo only by what
// the service adds: same handler, same route, same response bytes.
var (
	bareEcho = serverKind{
		key: "bare-echo", name: "bare Echo", start: loadserver.StartBare,
		pkg: "./cmd/bare-echo", authorization: noAuthorization,
	}
	troupeDefaults = serverKind{
		key: "troupe-defaults", name: "Troupe defaults", start: func() (*loadserver.Server, error) { return troupeserver.Start(nil) },
		pkg: "./cmd/troupe", authorization: noAuthorization,
	}
	troupeFull = serverKind{
		key: "troupe-full", name: "Troupe full", start: func() (*loadserver.Server, error) { return troupeserver.Start(troupeserver.Full) },
		pkg: "./cmd/troupe", args: []string{"-full"}, authorization: troupeserver.Authorization,
	}
)

// serverKinds are the pinned mode's servers, in the order they take turns;
// the first is the baseline of every ratio.
var serverKinds = []serverKind{bareEcho, troupeDefaults, troupeFull}

func noAuthorization(int) (string, error) { return "", nil }
