// Package abi declares the wire format of the WASM component ABI, version 1
// (docs/wasm-abi.md), once for both of its sides: the host (actors/wasm)
// and the Go guest SDK (actors/guest) import it, so the two cannot drift.
// It holds the message kinds, the reply status bytes, the host error codes,
// the framing of a publication and the JSON shapes that cross the
// boundary (HTTP requests and responses, http_fetch).
//
// The guest SDK re-exports the types a component handles under its own
// names. Everything here builds for wasip1 and imports only what a guest
// can run and what a small module can afford: no fmt, no net/http.
package abi

import "encoding/binary"

// Message kinds: the first argument of troupe_receive.
const (
	// KindMessage is the payload of a Send or Request.
	KindMessage = 1
	// KindHTTP is an HTTP request routed to the component, as an
	// HTTPRequest in JSON.
	KindHTTP = 2
	// KindPublication is a message on a subscribed topic, framed as
	// SplitPublication reads it.
	KindPublication = 3
)

// Reply status bytes: the first byte of a non-empty troupe_receive reply.
const (
	// StatusOK: the rest of the reply is the payload.
	StatusOK = 0
	// StatusError: the rest of the reply is an error message.
	StatusError = 1
)

// Error codes of a failed host call, which returns the negated code.
const (
	// CodeDenied: no capability in Component.toml grants the call.
	CodeDenied = 1
	// CodeNotFound: no such actor or key.
	CodeNotFound = 2
	// CodeTimeout: the deadline passed.
	CodeTimeout = 3
	// CodeTooLarge: a payload, key or result is over its limit.
	CodeTooLarge = 4
	// CodeInvalid: a malformed argument, such as a bad pointer or length,
	// bad JSON, a bad subject or a bad URL.
	CodeInvalid = 5
	// CodeUnavailable: the recipient is overloaded or stopping, or the
	// store is down.
	CodeUnavailable = 6
	// CodeFailed: the operation itself failed, for instance the other actor
	// replied with an error, or a network error.
	CodeFailed = 7
)

// PublicationHeaderLen is the size of the u32 subject length that starts a
// kind 3 message: the length, the subject, then the payload.
const PublicationHeaderLen = 4

// SplitPublication splits a kind 3 message into its subject and payload;
// ok is false when the subject length does not fit the message. data
// aliases msg.
func SplitPublication(msg []byte) (subject string, data []byte, ok bool) {
	if len(msg) < PublicationHeaderLen {
		return "", nil, false
	}
	n := binary.LittleEndian.Uint32(msg)
	if uint64(n) > uint64(len(msg)-PublicationHeaderLen) {
		return "", nil, false
	}
	rest := msg[PublicationHeaderLen:]
	return string(rest[:n]), rest[n:], true
}
