package versioning

import (
	"net/http"
	"strconv"
)

// headerFields are a deprecated version's response header fields, rendered
// once at Mount so a request only copies strings.
type headerFields struct {
	// values is Deprecation, then Sunset when hasSunset, then the Link values.
	values    []string
	hasSunset bool
}

// renderHeaders renders d's fields for a version of the API at prefix.
func renderHeaders(d *deprecation, prefix string) *headerFields {
	f := &headerFields{values: []string{"@" + strconv.FormatInt(d.since.Unix(), 10)}}
	if !d.sunset.IsZero() {
		f.values = append(f.values, d.sunset.Format(http.TimeFormat))
		f.hasSunset = true
	}
	if d.successor != 0 {
		f.values = append(f.values, linkValue(prefix+"/"+label(d.successor), "successor-version"))
	}
	if d.link != "" {
		f.values = append(f.values, linkValue(d.link, "deprecation"))
	}
	if d.sunsetLink != "" {
		f.values = append(f.values, linkValue(d.sunsetLink, "sunset"))
	}
	return f
}

func linkValue(target, rel string) string {
	return "<" + target + `>; rel="` + rel + `"`
}

// apply sets Deprecation and Sunset on h and adds the Link values to any
// already present.
//
// Each response gets its own copy of the values, in one allocation: sharing
// the rendered slice would let one response's in-place header edit leak into
// every other response, and race. The sub-slices are capped so that a later
// Header.Add copies instead of writing into a neighbour.
func (f *headerFields) apply(h http.Header) {
	vals := make([]string, len(f.values))
	copy(vals, f.values)
	h["Deprecation"] = vals[0:1:1]
	rest := vals[1:]
	if f.hasSunset {
		h["Sunset"] = rest[0:1:1]
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return
	}
	if prior := h["Link"]; len(prior) > 0 {
		h["Link"] = append(prior, rest...)
	} else {
		h["Link"] = rest[:len(rest):len(rest)]
	}
}
