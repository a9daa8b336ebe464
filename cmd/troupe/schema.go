package main

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	gotoml "github.com/pelletier/go-toml/v2"

	"github.com/troupehq/troupe/config"
	"github.com/troupehq/troupe/internal/configdoc"
)

// schemaID is the JSON Schema dialect of the schema troupe prints.
const schemaID = "https://json-schema.org/draft/2020-12/schema"

// Patterns of the string-encoded values, as the config package parses
// them: time.ParseDuration's syntax, and a size's digits, optional space
// and case-insensitive unit (config.ParseSize).
const (
	durationPattern = `^[-+]?(0|([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+)$`
	sizePattern     = `^[0-9]+ ?([bB]|[kKmMgGtTpPeE][iI]?[bB])?$`
)

func (c *cli) configSchema(_ context.Context, args []string) int {
	fs := c.newFlags("troupe config schema", "",
		"Print a JSON Schema (2020-12) of config.toml: every key Troupe accepts, with\nits type, default and meaning, generated from the config package's own\ndescription of its keys. Point an editor at it (taplo / Even Better TOML:\n#:schema ./config.schema.json as the file's first line) to have config.toml\nvalidated and documented as you type. The [app] section is the service's own\nand is accepted as any table.")
	if _, code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	b, err := configJSONSchema()
	if err != nil {
		fmt.Fprintf(c.stderr, "troupe config schema: %v\n", err)
		return exitFailed
	}
	c.stdout.Write(b)
	return exitOK
}

// object is a JSON Schema object node.
type object = map[string]any

// configJSONSchema builds the schema from configdoc.Keys.
func configJSONSchema() ([]byte, error) {
	keys, err := configdoc.Keys()
	if err != nil {
		return nil, err
	}
	root := table("Troupe service configuration (config.toml). Keys, defaults and rules: docs/config.md.")
	root["$schema"] = schemaID
	root["title"] = "Troupe config.toml"
	props := root["properties"].(object)
	props["app"] = object{"type": "object", "description": "The service's own settings (service.WithAppConfig): checked by the service itself, not by this schema."}
	for _, k := range keys {
		node, err := keySchema(k)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.Name, err)
		}
		parent := root
		segments := strings.Split(k.Name, ".")
		for _, s := range segments[:len(segments)-1] {
			children := parent["properties"].(object)
			next, ok := children[s].(object)
			if !ok {
				next = table("")
				children[s] = next
			}
			parent = next
		}
		parent["properties"].(object)[segments[len(segments)-1]] = node
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "≥ 0" and "> 0" stay readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// table is the schema of a TOML table that accepts only the keys listed.
func table(description string) object {
	t := object{"type": "object", "additionalProperties": false, "properties": object{}}
	if description != "" {
		t["description"] = description
	}
	return t
}

// keySchema is the schema of one key: its type and, except for secrets,
// its default.
func keySchema(k configdoc.Key) (object, error) {
	node := typeSchema(k.Type)
	node["description"] = k.Doc
	if k.Secret || k.FileOf != "" {
		return node, nil
	}
	var v struct{ V any }
	if err := gotoml.Unmarshal([]byte("V = "+k.Default), &v); err != nil {
		return nil, fmt.Errorf("default %s: %w", k.Default, err)
	}
	node["default"] = v.V
	return node, nil
}

// typeSchema maps a key's Go type to JSON Schema as the loader decodes
// TOML into it: durations are strings, sizes strings or byte counts.
func typeSchema(t reflect.Type) object {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return object{"type": "string", "pattern": durationPattern}
	case t == reflect.TypeFor[config.Size]():
		return object{"anyOf": []any{
			object{"type": "string", "pattern": sizePattern},
			object{"type": "integer", "minimum": 0},
		}}
	}
	if t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return object{"type": "string"} // parsed by its UnmarshalText (config.RouteLimit)
	}
	switch t.Kind() {
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.String:
		return object{"type": "string"}
	case reflect.Float32, reflect.Float64:
		return object{"type": "number"}
	case reflect.Slice:
		return object{"type": "array", "items": typeSchema(t.Elem())}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return object{"type": "integer", "minimum": 0, "maximum": uint64(math.MaxUint64) >> (64 - t.Bits())}
	}
	// The signed integers; config.Describe admits no other kind.
	return object{"type": "integer", "minimum": int64(math.MinInt64) >> (64 - t.Bits()), "maximum": int64(math.MaxInt64) >> (64 - t.Bits())}
}
