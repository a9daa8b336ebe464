package realtime

import (
	"embed"
	"io/fs"
)

//go:embed client/troupe-realtime.js
var clientFiles embed.FS

// ClientFS holds the browser client, troupe-realtime.js, at its root: a
// dependency-free script that speaks the protocol, reconnects with
// exponential back-off and jitter, resumes every room from its last
// position, and pings to find dead connections. Serve it with the
// service's static assets, or with http.FileServerFS.
var ClientFS fs.FS = clientSub()

func clientSub() fs.FS {
	sub, err := fs.Sub(clientFiles, "client")
	if err != nil {
		panic("realtime: the embedded client is missing: " + err.Error())
	}
	return sub
}
