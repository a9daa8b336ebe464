package config

import (
	"fmt"
	"os"
	"strings"
)

// resolveSecrets replaces each "<key>_file" in the merged config by the
// contents of the file it names, stored under <key>. A secret is "set" when
// its value is non-empty, so an example config may list both keys empty.
// Setting both is an error rather than a precedence rule: which one wins
// would be a guess about which the operator meant.
func (r *run) resolveSecrets() {
	for _, key := range r.schema.keys {
		l := r.schema.leaves[key]
		if !l.secret {
			continue
		}
		fileKey := key + secretFileSuffix
		path, _ := r.merged.Get(fileKey).(string)
		r.merged.Delete(fileKey)
		fileSource := r.sources[fileKey]
		delete(r.sources, fileKey)
		if path == "" {
			continue
		}
		if value, _ := r.merged.Get(key).(string); value != "" {
			r.fail(key, r.sources[key], fmt.Errorf("set only one of %s and %s (from %s)", key, fileKey, fileSource))
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			r.fail(fileKey, fileSource, fmt.Errorf("reading secret file: %w", err))
			continue
		}
		// One trailing newline is what editors and `echo` add; anything
		// more is taken to be part of the secret.
		value, crlf := strings.CutSuffix(string(data), "\r\n")
		if !crlf {
			value = strings.TrimSuffix(value, "\n")
		}
		if err := r.merged.Set(key, value); err != nil {
			r.fail(fileKey, fileSource, err)
			continue
		}
		r.sources[key] = fileSource
		r.via[key] = fileKey
	}
}
