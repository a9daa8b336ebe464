// Package protoconflict lets hollywood and protoactor-go link into one
// binary without the -ldflags that README.md documents, so that a plain
// `go test ./...` or `go run .` works.
//
// Both libraries register a protobuf file named "actor.proto" with messages
// "actor.PID" and so on, and the protobuf runtime panics on the duplicate
// unless told to ignore it: at link time with
// -X google.golang.org/protobuf/reflect/protoregistry.conflictPolicy=ignore,
// or at run time with GOLANG_PROTOBUF_REGISTRATION_CONFLICT=ignore, which it
// reads when the conflict happens. This package sets that variable (unless
// the caller set it) during initialization. Go initializes packages in
// import-path order once their imports are ready (spec, "Package
// initialization", Go 1.21+); this package imports only os, and the
// registrations need google.golang.org/protobuf, whose path sorts after
// this one, so this runs first. The harness never sends the conflicting
// types over the wire, so ignoring the duplicate is harmless here.
package protoconflict

import "os"

const env = "GOLANG_PROTOBUF_REGISTRATION_CONFLICT"

func init() {
	if _, set := os.LookupEnv(env); !set {
		os.Setenv(env, "ignore")
	}
}
