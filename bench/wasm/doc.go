// Package wasmbench measures one guest logic, a 64-byte echo, under
// Troupe's WASM component runtime and under Extism (extism/go-sdk), with a
// native Troupe actor as the floor, in one run so the ratios are fair.
//
// It is a separate module, like bench/actors, so that Extism and its
// dependencies never enter Troupe's own go.mod. Everything is in the tests:
// the guests are WAT sources in testdata, compiled with wat2wasm at test
// time, and the figures come from
//
//	go test -run '^$' -bench . -benchtime 2s -count 3
//
// See README.md for the method and the latest results.
package wasmbench
