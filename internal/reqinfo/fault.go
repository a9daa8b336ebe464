package reqinfo

// A request can fail through its client's fault rather than the server's:
// a body that is malformed, cut short or too large, a client too slow to
// send it, a connection that is gone. The stage that reads the body learns
// of it and records it here; the circuit breaker, further out, reads the mark
// and leaves the request out of its counts whatever status the handler
// rendered, so that no client can open a breaker by sending bad requests.
//
// The methods are safe on a nil *Info, which stands for a request served
// without the request-ID stage: nothing is recorded and nothing is reported.

// SetClientFault records that the client made the request fail.
func (i *Info) SetClientFault() {
	if i != nil {
		i.clientFault.Store(true)
	}
}

// ClientFault reports whether SetClientFault was called for the request.
func (i *Info) ClientFault() bool { return i != nil && i.clientFault.Load() }

// BeginBodyRead and EndBodyRead bracket each read of the request body, so
// that ReadingBody can tell whether the server is waiting for the client.
func (i *Info) BeginBodyRead() {
	if i != nil {
		i.bodyReads.Add(1)
	}
}

// EndBodyRead ends what BeginBodyRead began.
func (i *Info) EndBodyRead() {
	if i != nil {
		i.bodyReads.Add(-1)
	}
}

// ReadingBody reports whether a read of the request body is under way: the
// handler is waiting for bytes only the client can send. The timeout stage
// asks it when the deadline passes.
func (i *Info) ReadingBody() bool { return i != nil && i.bodyReads.Load() > 0 }
