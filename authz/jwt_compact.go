package authz

// checkCompact enforces the JWS compact serialization strictly before any
// decoding: exactly three non-empty segments of unpadded base64url. The
// decoder alone would accept embedded CR and LF, and the library would try
// a token whose signature was stripped; neither reaches it.
func checkCompact(token string) error {
	segments, start := 0, 0
	for i := 0; i <= len(token); i++ {
		if i < len(token) && token[i] != '.' {
			if !isBase64URL(token[i]) {
				return invalid("malformed: not base64url")
			}
			continue
		}
		if i == start {
			if segments == 2 {
				return invalid("malformed: signature missing")
			}
			return invalid("malformed: empty segment")
		}
		segments++
		start = i + 1
	}
	if segments != 3 {
		return invalid("malformed: want 3 segments")
	}
	return nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
