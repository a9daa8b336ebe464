package state

import "strings"

// JetStream KV keys are NATS subject tokens: the server accepts only
// [-/_=.A-Za-z0-9], and a '.' splits the key into tokens that must not be
// empty. Store keys are arbitrary bytes (a component's key is whatever its
// guest sends), so the JetStream store escapes them:
//
//   - A-Z, a-z, 0-9, '-', '_' and '/' stand for themselves, so the usual
//     "<component>/<namespace>/<key>" reads the same in `nats kv ls`;
//   - every other byte, '.' and '=' included, becomes '=' and two
//     upper-case hex digits ("a.b" is "a=2Eb", "=" is "=3D").
//
// The mapping is injective ('=' only ever starts an escape) and its
// output never holds a '.', so no key can add a token, start or end with
// a dot, or reach another key's subject or a wildcard. FuzzKeyEscape
// checks the round trip and the charset.

// maxEscapedKey bounds an escaped key. The key travels in the subject of
// a protocol line the server limits to 4096 bytes (max_control_line),
// together with the JetStream API prefix, the bucket's name twice (a
// direct get names stream and subject) and a reply inbox; a longer line
// makes the server close the connection, so an oversized key must fail
// here, as ErrInvalidKey. 3072 leaves ~1 KiB for the rest with a bucket
// name of up to 255 bytes, and holds any 1024-byte key of safe bytes.
const maxEscapedKey = 3072

const hexDigits = "0123456789ABCDEF"

// keySafe reports the bytes that stand for themselves in an escaped key.
func keySafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '/'
}

// escapeKey returns key in JetStream's key charset, or ErrInvalidKey for
// an empty key or one whose escaped form exceeds maxEscapedKey.
func escapeKey(key string) (string, error) {
	if key == "" {
		return "", ErrInvalidKey
	}
	n := len(key)
	for i := range len(key) {
		if !keySafe(key[i]) {
			n += 2
		}
	}
	switch {
	case n > maxEscapedKey:
		return "", ErrInvalidKey
	case n == len(key):
		return key, nil
	}
	var b strings.Builder
	b.Grow(n)
	for i := range len(key) {
		c := key[i]
		if keySafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String(), nil
}
