package realtime

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// Buffer sizes of a WebSocket connection. net/http hands a hijacked
// connection over with its own 4 KiB reader and 4 KiB writer, which the
// connection would keep for life: 8 KiB of its footprint. 1 KiB each reads
// a typical client message and writes a typical server message in one
// system call; a longer one takes two (the frame header and the first KiB,
// then the rest straight from the message), which costs little against
// 6 KiB per connection — 600 MB per 100,000 (docs/realtime.md).
const (
	readBuffer  = 1 << 10
	writeBuffer = 1 << 10
)

// smallBuffers is the ResponseWriter the WebSocket library hijacks: it
// swaps net/http's buffers for smaller ones and keeps the socket, which the
// connection needs for deadlines and aborts.
type smallBuffers struct {
	http.ResponseWriter
	nc net.Conn
}

// Hijack takes the connection over from net/http. Bytes the client sent
// after its handshake and net/http already read stay first in line: they
// are loaded into the new reader's buffer, which the library keeps.
func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.nc = nc
	br := bufio.NewReaderSize(nc, readBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), max(readBuffer, n))
		if _, err := br.Peek(n); err != nil {
			_ = nc.Close()
			return nil, nil, err
		}
	}
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, writeBuffer)), nil
}

// Unwrap returns the writer underneath, for http.ResponseController.
func (w *smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
