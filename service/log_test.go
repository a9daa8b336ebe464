package service

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/troupehq/troupe/config"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		format string
		want   func(t *testing.T, out string)
	}{
		{"json", func(t *testing.T, out string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("not a JSON line: %q: %v", out, err)
			}
			if m["level"] != "WARN" || m["msg"] != "shown" || m["k"] != "v" {
				t.Errorf("record = %v", m)
			}
		}},
		{"text", func(t *testing.T, out string) {
			if !strings.Contains(out, `level=WARN msg=shown k=v`) {
				t.Errorf("record = %q, want a text line", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var buf bytes.Buffer
			logger := newLogger(&buf, config.Log{Level: "warn", Format: tt.format})
			logger.Info("hidden")
			logger.Warn("shown", "k", "v")
			if strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("output %q, want one line: the INFO record is below log.level", buf.String())
			}
			tt.want(t, buf.String())
		})
	}
}
