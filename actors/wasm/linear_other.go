//go:build !unix

package wasm

import "errors"

// reserve fails where there is no mmap: linear memory stays on the Go heap.
func reserve(int) ([]byte, error) {
	return nil, errors.New("wasm: no mmap on this OS")
}

func commit([]byte) error { return errors.New("wasm: no mmap on this OS") }

func decommit([]byte) {}

func unmap([]byte) {}
