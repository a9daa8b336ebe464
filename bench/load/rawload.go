package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/troupehq/troupe/bench/internal/histogram"
)

// The pinned mode's load generator speaks HTTP/1.1 on raw connections, as
// wrk does: each worker writes one pre-built request and parses the
// response in place. net/http's client, which the in-process mode uses,
// spends several times the server's CPU per request on headers maps,
// transport bookkeeping and two goroutines per connection; on one core it
// would run out of CPU before bare Echo does and cap every target at the
// generator's speed.

// rawRequest returns the bytes of a keep-alive GET of helloPath on addr,
// with an Authorization header when authorization is set.
func rawRequest(addr, authorization string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: troupe-load\r\n", helloPath, addr)
	if authorization != "" {
		fmt.Fprintf(&b, "Authorization: %s\r\n", authorization)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// rawResponse is what readResponse parsed; body aliases the caller's
// buffer.
type rawResponse struct {
	status int
	body   []byte
	close  bool // the server asked to close the connection
}

// maxBody bounds the body readResponse accepts; the expected one is tiny.
const maxBody = 1 << 20

// readResponse reads one HTTP/1.1 response from br, its body into buf
// (grown as needed). It understands Content-Length and chunked bodies, which
// is all a Go server sends; an error leaves the connection unusable.
func readResponse(br *bufio.Reader, buf []byte) (rawResponse, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return rawResponse{}, fmt.Errorf("status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return rawResponse{}, fmt.Errorf("malformed status line %.60q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return rawResponse{}, fmt.Errorf("malformed status line %.60q", line)
	}
	resp := rawResponse{status: status}
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return rawResponse{}, fmt.Errorf("header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return rawResponse{}, fmt.Errorf("malformed header line %.60q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxBody {
				return rawResponse{}, fmt.Errorf("bad Content-Length %.40q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			resp.close = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		resp.body, err = readChunked(br, buf[:0])
	case length >= 0:
		resp.body, err = readFull(br, buf[:0], length)
	default:
		err = errors.New("response has neither Content-Length nor chunked encoding")
	}
	if err != nil {
		return rawResponse{}, fmt.Errorf("body: %w", err)
	}
	return resp, nil
}

// readFull appends n bytes from r to buf.
func readFull(r io.Reader, buf []byte, n int) ([]byte, error) {
	buf = append(buf, make([]byte, n)...)
	_, err := io.ReadFull(r, buf[len(buf)-n:])
	return buf, err
}

// readChunked appends a chunked body from br to buf, trailers skipped.
func readChunked(br *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 31)
		if err != nil || len(buf)+int(n) > maxBody {
			return nil, fmt.Errorf("bad chunk size %.40q", line)
		}
		if n == 0 {
			for { // trailer lines, up to the empty one
				line, err := br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return buf, nil
				}
			}
		}
		if buf, err = readFull(br, buf, int(n)); err != nil {
			return nil, err
		}
		if crlf, err := br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return nil, fmt.Errorf("chunk not followed by CRLF")
		}
	}
}

// checkResponse reports any answer but a 200 carrying wantBody.
func checkResponse(r rawResponse) error {
	switch {
	case r.status != 200:
		return fmt.Errorf("status %d, body %.80q", r.status, r.body)
	case !bytes.Equal(bytes.TrimSpace(r.body), wantBody):
		return fmt.Errorf("unexpected body %.80q", r.body)
	}
	return nil
}

// loadRaw runs a closed loop against addr: one worker per request in reqs,
// each on its own keep-alive connection sending its request as soon as the
// previous response is read, until duration has passed. Requests in flight
// at the end finish and count. It returns ctx's error if ctx ends first.
func loadRaw(ctx context.Context, addr string, reqs [][]byte, duration time.Duration) (*roundResult, error) {
	return loadChecked(ctx, addr, reqs, duration, checkResponse)
}

// loadChecked is loadRaw with the answer's check: an answer counts when
// check returns nil. Every worker sends at least one request, so a run of
// a millisecond still probes the route.
func loadChecked(ctx context.Context, addr string, reqs [][]byte, duration time.Duration, check func(rawResponse) error) (*roundResult, error) {
	workers := make([]roundResult, len(reqs))
	start := time.Now()
	end := start.Add(duration)
	var wg sync.WaitGroup
	for i := range workers {
		workers[i].hist = histogram.New()
		wg.Go(func() { rawWork(ctx, addr, reqs[i], end, check, &workers[i]) })
	}
	wg.Wait()
	total := &roundResult{elapsed: time.Since(start), hist: histogram.New()}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range workers {
		total.merge(&workers[i])
	}
	return total, nil
}

// rawWork is one closed-loop client on one connection (a new one after a
// failure): it records every successful request's latency, from writing the
// request to having read the whole body, into res.
func rawWork(ctx context.Context, addr string, req []byte, end time.Time, check func(rawResponse) error, res *roundResult) {
	fail := func(err error) {
		res.errors++
		if len(res.samples) < maxErrorSamples {
			res.samples = append(res.samples, err.Error())
		}
	}
	var conn *rawConn
	defer func() { conn.close() }()
	body := make([]byte, 0, 512)
	for first := true; first || time.Now().Before(end) && ctx.Err() == nil; first = false {
		if conn == nil {
			c, err := dialRaw(ctx, addr, end.Add(requestGrace))
			if err != nil {
				fail(err)
				time.Sleep(10 * time.Millisecond) // a refused dial returns at once
				continue
			}
			conn = c
		}
		begin := time.Now()
		resp, err := conn.roundTrip(req, body)
		took := time.Since(begin)
		if err != nil {
			fail(err)
			conn.close()
			conn = nil
			continue
		}
		body = resp.body[:0]
		if err := check(resp); err != nil {
			fail(err)
		} else {
			res.requests++
			res.hist.Record(took)
		}
		if resp.close {
			conn.close()
			conn = nil
		}
	}
}

// rawConn is a generator's keep-alive connection.
type rawConn struct {
	c    net.Conn
	br   *bufio.Reader
	stop func() bool // unregisters the close on ctx's end
}

// dialRaw connects to addr; the connection fails any read or write after
// deadline, and closes when ctx ends, so neither a hung server nor an
// interrupted run can hold a worker.
func dialRaw(ctx context.Context, addr string, deadline time.Time) (*rawConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(deadline); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &rawConn{c: c, br: bufio.NewReaderSize(c, 4096), stop: context.AfterFunc(ctx, func() { _ = c.Close() })}, nil
}

// roundTrip sends req and reads the response, its body into buf.
func (rc *rawConn) roundTrip(req, buf []byte) (rawResponse, error) {
	if _, err := rc.c.Write(req); err != nil {
		return rawResponse{}, err
	}
	return readResponse(rc.br, buf)
}

// close closes the connection; it is a no-op on nil.
func (rc *rawConn) close() {
	if rc == nil {
		return
	}
	rc.stop()
	_ = rc.c.Close()
}
