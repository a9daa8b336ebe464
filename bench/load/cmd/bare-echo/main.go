// Command bare-echo is the baseline server of bench/load's pinned mode: the
// handler on a bare Echo, no middleware, in a binary that links nothing of
// Troupe. It prints "listening <addr>" and serves until interrupted.
//
//	go run ./bench/load/cmd/bare-echo
package main

import "github.com/troupehq/troupe/bench/load/internal/loadserver"

func main() {
	loadserver.Main(loadserver.StartBare)
}
