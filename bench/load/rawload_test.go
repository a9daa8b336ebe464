package main

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		status int
		body   string
		close  bool
		err    string
	}{
		{name: "content length", raw: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhello", status: 200, body: "hello"},
		{name: "chunked with extension and trailer", raw: "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: 1\r\n\r\n", status: 503, body: "hello"},
		{name: "connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 200, close: true},
		{name: "no length", raw: "HTTP/1.1 200 OK\r\n\r\nhello", err: "neither Content-Length nor chunked"},
		{name: "bad status line", raw: "HTTZ/1.1 200 OK\r\n\r\n", err: "malformed status line"},
		{name: "bad length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: "bad Content-Length"},
		{name: "short body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", err: "body"},
		{name: "bad chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: "bad chunk size"},
		{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nbogus\r\n\r\n", err: "malformed header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := readResponse(bufio.NewReader(strings.NewReader(tt.raw)), nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil || resp.status != tt.status || string(resp.body) != tt.body || resp.close != tt.close {
				t.Errorf("got %d %q close=%v, %v; want %d %q close=%v", resp.status, resp.body, resp.close, err, tt.status, tt.body, tt.close)
			}
		})
	}
}

func TestReadResponseKeepsTheConnectionInStep(t *testing.T) {
	two := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab" + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\ncd\r\n0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(two))
	for _, want := range []string{"ab", "cd"} {
		resp, err := readResponse(br, nil)
		if err != nil || string(resp.body) != want {
			t.Fatalf("body %q, %v; want %q", resp.body, err, want)
		}
	}
}

func TestRawRequest(t *testing.T) {
	got := string(rawRequest("127.0.0.1:80", ""))
	want := "GET " + helloPath + " HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUser-Agent: troupe-load\r\n\r\n"
	if got != want {
		t.Errorf("rawRequest = %q, want %q", got, want)
	}
	if got := string(rawRequest("h:1", "Bearer x")); !strings.HasSuffix(got, "\r\nAuthorization: Bearer x\r\n\r\n") {
		t.Errorf("with authorization: %q", got)
	}
}

func TestLoadRawAgainstRealServers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		ok      bool
		sample  string
	}{
		{"good", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(append(wantBody, '\n')) }, true, ""},
		{"chunked good", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(wantBody[:5])
			w.(http.Flusher).Flush()
			_, _ = w.Write(wantBody[5:])
		}, true, ""},
		{"status", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }, false, "status 500"},
		{"body", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"message":"hi"}`)) }, false, "unexpected body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			reqs := [][]byte{rawRequest(addr, ""), rawRequest(addr, "")}
			res, err := loadRaw(context.Background(), addr, reqs, 30*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if tt.ok {
				if res.requests == 0 || res.errors != 0 || res.hist.Count() != res.requests {
					t.Fatalf("%d requests, %d errors %q, %d latencies; want some, none, one each", res.requests, res.errors, res.samples, res.hist.Count())
				}
				return
			}
			if res.requests != 0 || res.errors == 0 {
				t.Fatalf("%d requests, %d errors; want none and some", res.requests, res.errors)
			}
			if len(res.samples) == 0 || !strings.Contains(res.samples[0], tt.sample) {
				t.Errorf("samples %q, want one mentioning %q", res.samples, tt.sample)
			}
		})
	}
}

func TestLoadRawCountsRefusedConnections(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	res, err := loadRaw(context.Background(), addr, [][]byte{rawRequest(addr, "")}, 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.requests != 0 || res.errors == 0 || !strings.Contains(res.samples[0], "refused") {
		t.Errorf("%d requests, %d errors %q; want none and refusals", res.requests, res.errors, res.samples)
	}
}

func TestLoadRawStopsWhenCancelled(t *testing.T) {
	// A server that never answers: only the cancellation can end the round.
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := loadRaw(ctx, addr, [][]byte{rawRequest(addr, "")}, time.Hour); err != context.Canceled {
		t.Fatalf("loadRaw = %v, want context.Canceled", err)
	}
}
