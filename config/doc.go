// Package config loads, strictly decodes and validates a Troupe service's
// configuration.
//
// Sources, lowest precedence first: the defaults in Default; the file
// <service>/config.toml in each $XDG_CONFIG_DIRS entry; the same file in
// $XDG_CONFIG_HOME; ./config.toml (or the file named by <SERVICE>_CONFIG or
// an explicit --config path); and environment variables with the
// <SERVICE>_ prefix, where "__" separates key path segments
// (ORDERS_HTTP__BODY_LIMIT=1MiB sets http.body_limit).
//
// Decoding is strict: an unknown key, from a file or from the environment, is
// an error that names the key and its source, and so is a malformed value.
// Durations and sizes are strings ("30s", "10MiB"). Every problem is reported
// together. Secrets may be given through a sibling "<key>_file" key naming a
// file that holds the value; they are redacted in the effective-config dump.
package config
