// Command troupe is the Troupe server of bench/load's pinned mode: the
// quickstart service with its default config, or with -full the same plus
// JWT HS256, Cedar, memory rate limits, the breaker and a bulkhead. It
// prints "listening <addr>" and serves until interrupted, so it can also be
// profiled under a load generated elsewhere (the full service then needs a
// bearer token signed as troupeserver.Authorization signs them).
//
//	go run ./bench/load/cmd/troupe [-full]
package main

import (
	"flag"

	"github.com/troupehq/troupe/bench/load/internal/loadserver"
	"github.com/troupehq/troupe/bench/load/internal/troupeserver"
)

func main() {
	full := flag.Bool("full", false, "turn on JWT, Cedar, rate limits, the breaker and a bulkhead")
	loadserver.Main(func() (*loadserver.Server, error) {
		if *full {
			return troupeserver.Start(troupeserver.Full)
		}
		return troupeserver.Start(nil)
	})
}
