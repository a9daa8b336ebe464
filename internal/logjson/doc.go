// Package logjson is a fast [log/slog] handler that writes the same JSON
// lines as [slog.JSONHandler].
//
// slog's JSONHandler is general: it supports ReplaceAttr and AddSource, which
// Troupe never uses, and pays for them on every record. On the request path
// one access-log record per request made it the most expensive middleware
// stage. This handler keeps the output (keys, value encodings, group nesting,
// string escaping) and drops the options (of slog.HandlerOptions only Level
// is honoured), so a record of strings, integers, booleans, durations and
// times is encoded without allocating. Handler.LogAttrs goes further for hot
// call sites: it takes the attributes without a slog.Record, which copies
// them and allocates beyond five.
//
// Deviations from slog.JSONHandler, all in cases where slog's output is
// either invalid JSON or contrary to the [slog.Handler] contract:
//
//   - A group whose attributes are all empty is dropped without losing the
//     comma before the next attribute (slog writes "a":1"b":2).
//   - A time whose year is outside [0, 9999] is written as the string
//     "!ERROR:time.Time year outside of range [0,9999]" alone (slog writes
//     the error string followed by the time string).
//   - WithGroup("") returns the receiver, as the Handler contract asks (slog
//     opens a group named "").
//   - A group that ends up without attributes is never written, as the
//     contract asks. slog writes "g":{} for a WithGroup("g") whose record's
//     only attribute is a LogValuer resolving to an empty group, and keeps a
//     WithGroup group open for a WithAttrs of empty groups.
package logjson
