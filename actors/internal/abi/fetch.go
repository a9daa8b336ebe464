package abi

// FetchRequest is the argument of http_fetch, in the ABI's JSON form.
type FetchRequest struct {
	Method string `json:"method"`
	// URL is an absolute http or https URL.
	URL    string `json:"url"`
	Header Header `json:"header,omitempty"`
	Body   []byte `json:"body,omitempty"`
	// TimeoutMS bounds the whole exchange in milliseconds; 0 leaves only
	// the current message's deadline.
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// FetchResponse is the result of http_fetch. A status of 4xx or 5xx is a
// response, not an error.
type FetchResponse struct {
	Status int    `json:"status"`
	Header Header `json:"header"`
	Body   []byte `json:"body"`
}
