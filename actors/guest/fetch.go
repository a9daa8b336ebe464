package guest

import (
	"encoding/json"
	"time"

	"github.com/troupehq/troupe/actors/internal/abi"
)

// FetchRequest is an outbound HTTP request made by the host on the
// component's behalf.
type FetchRequest struct {
	// Method defaults to GET.
	Method string
	// URL is an absolute http or https URL.
	URL    string
	Header Header
	Body   []byte
	// Timeout bounds the whole exchange; zero leaves only the host's own
	// bound, the current message's deadline.
	Timeout time.Duration
}

// FetchResponse is the response to a FetchRequest: Status, Header and
// Body. A status of 4xx or 5xx is a response, not an error.
type FetchResponse = abi.FetchResponse

// Fetch performs req through the host. It needs a capability
// network:outbound:<host>:<port> for the URL and for every redirect; a
// response body over the host's reply limit matches ErrTooLarge.
func Fetch(req *FetchRequest) (*FetchResponse, error) {
	if req == nil || req.URL == "" {
		return nil, &Error{Code: CodeInvalid, Message: "fetch request has no URL"}
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	body, err := json.Marshal(&abi.FetchRequest{
		Method: method, URL: req.URL, Header: req.Header, Body: req.Body,
		TimeoutMS: int64(timeoutMS(req.Timeout)),
	})
	if err != nil {
		return nil, &Error{Code: CodeInvalid, Message: err.Error()}
	}
	out, err := result(hostFetch(body))
	if err != nil {
		return nil, err
	}
	var resp FetchResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, &Error{Code: CodeInvalid, Message: "malformed fetch response: " + err.Error()}
	}
	return &resp, nil
}

// Get fetches url with GET.
func Get(url string) (*FetchResponse, error) {
	return Fetch(&FetchRequest{URL: url})
}
