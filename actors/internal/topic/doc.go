// Package topic validates NATS-style subjects and matches them against
// subscription patterns with a concurrent trie.
//
// A subject is a sequence of non-empty tokens separated by '.', such as
// "orders.eu.created". Tokens hold no whitespace or control characters and
// must be valid UTF-8. A pattern is a subject that may also use two wildcard
// tokens: "*" matches exactly one token, and ">" matches one or more trailing
// tokens and may only be the last token. Wildcard characters are never part
// of a literal token, so "a*" and "b>" are rejected rather than silently
// treated as literals; subjects (the publish side) may not contain them at
// all. Both subjects and patterns are limited to [MaxLen] bytes and
// [MaxTokens] tokens so that a hostile name cannot make matching expensive.
//
// The pub/sub layer of package actors stores subscriptions in a [Trie] and
// matches every published subject against it; Match is that hot path and does
// not allocate.
package topic
