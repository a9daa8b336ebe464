package middleware

import "strings"

// identityCoding is the content coding that means "no transformation".
const identityCoding = "identity"

// qUnset marks a coding the header does not mention. Real weights are in
// thousandths (0..1000), so the sentinel cannot collide with one.
const qUnset = -1

// NegotiateEncoding picks the content coding for a response from a request's
// Accept-Encoding field value, per RFC 9110 §12.5.3. offered lists the codings
// the server can produce in its order of preference; the result is one of
// them, "identity" (send the content uncompressed) or, with ok false, nothing:
// the client excluded every offered coding and identity too.
//
// The highest weight wins; among equal weights a coding beats identity and an
// earlier entry of offered beats a later one. Tokens are case-insensitive,
// "x-gzip" means gzip, "*" covers every coding the header does not name, and
// identity stays acceptable unless "identity;q=0" or "*;q=0" excludes it — as
// a last resort only, when the header neither names it nor uses "*". An
// element whose token or weight is malformed is ignored rather than rejected,
// because one odd element should not cost the client the rest of its list; if
// a coding is named twice, the first element counts. An empty value (like an
// absent field, for which callers pass "") yields identity.
//
// NegotiateEncoding does not allocate when offering up to eight codings.
func NegotiateEncoding(acceptEncoding string, offered []string) (coding string, ok bool) {
	var stack [8]int // weights of offered, in thousandths
	var weights []int
	if len(offered) <= len(stack) {
		weights = stack[:len(offered)]
	} else {
		weights = make([]int, len(offered))
	}
	for i := range weights {
		weights[i] = qUnset
	}

	starQ, identityQ := qUnset, qUnset
	for rest := acceptEncoding; rest != ""; {
		token, q, valid, next := nextCoding(rest)
		rest = next
		switch {
		case !valid:
		case token == "*":
			if starQ == qUnset {
				starQ = q
			}
		case strings.EqualFold(token, identityCoding):
			if identityQ == qUnset {
				identityQ = q
			}
		default:
			if strings.EqualFold(token, "x-gzip") {
				token = "gzip"
			}
			for i, name := range offered {
				if weights[i] == qUnset && strings.EqualFold(token, name) {
					weights[i] = q
				}
			}
		}
	}

	best, bestQ := "", 0
	for i, name := range offered {
		q := weights[i]
		if q == qUnset {
			q = max(starQ, 0)
		}
		if q > bestQ { // strictly greater keeps the server's order on ties
			best, bestQ = name, q
		}
	}

	if identityQ == qUnset {
		identityQ = starQ
	}
	switch {
	case bestQ > 0 && bestQ >= identityQ:
		return best, true
	case identityQ > 0 || identityQ == qUnset:
		return identityCoding, true
	default:
		return "", false
	}
}

// nextCoding parses the first element of an Accept-Encoding list:
//
//	element = token [ OWS ";" OWS "q=" qvalue ]
//
// It returns the token, the weight in thousandths (1000 when absent), whether
// the element is well formed, and the rest of the list. Empty elements, which
// the list syntax allows, come back as not valid.
func nextCoding(list string) (token string, q int, valid bool, rest string) {
	element := list
	if i := strings.IndexByte(list, ','); i >= 0 {
		element, rest = list[:i], list[i+1:]
	}
	token, params, hasParams := strings.Cut(element, ";")
	token = trimOWS(token)
	if !isToken(token) {
		return "", 0, false, rest
	}
	if !hasParams {
		return token, 1000, true, rest
	}
	params = trimOWS(params)
	if len(params) < 2 || (params[0] != 'q' && params[0] != 'Q') || params[1] != '=' {
		return "", 0, false, rest
	}
	q, valid = parseQValue(params[2:])
	return token, q, valid, rest
}

// parseQValue parses an RFC 9110 §12.4.2 qvalue into thousandths:
//
//	qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
func parseQValue(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	whole := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return whole, true
	}
	if s[1] != '.' {
		return 0, false
	}
	frac, scale := 0, 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || (whole == 1000 && c != '0') {
			return 0, false
		}
		frac += int(c-'0') * scale
		scale /= 10
	}
	return whole + frac, true
}

// trimOWS removes the optional whitespace (spaces and horizontal tabs) that
// HTTP allows around list elements and parameters.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is a non-empty RFC 9110 §5.6.2 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
