package service

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/troupehq/troupe/config"
)

// shopSettings is a service's own section.
type shopSettings struct {
	SeedNotes  int    `koanf:"seed_notes"`
	PartnerKey string `koanf:"partner_key" secret:"true"`
	Beta       bool   `koanf:"beta"`
}

func (s *shopSettings) Validate() error {
	if s.SeedNotes < 0 {
		return &config.Error{Key: "seed_notes", Err: errors.New("must not be negative")}
	}
	return nil
}

func TestWithAppConfigLoadsTheAppSection(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "partner")
	if err := os.WriteFile(keyFile, []byte("pk-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := shopSettings{SeedNotes: 20}
	r := start(t, map[string]string{"APP__BETA": "true", "APP__PARTNER_KEY_FILE": keyFile}, WithAppConfig(&app))
	if app.SeedNotes != 20 || !app.Beta || app.PartnerKey != "pk-123" {
		t.Fatalf("app settings = %+v", app)
	}
	_, body := get(t, r.adminBase()+"/configz")
	mustContain(t, string(body),
		"app.seed_notes = 20", "# default",
		"app.beta = true", "# env TEST_APP__BETA",
		`app.partner_key = "[redacted]"`, "env TEST_APP__PARTNER_KEY_FILE")
	if strings.Contains(string(body), "pk-123") {
		t.Error("/configz shows the app's secret")
	}
}

func TestWithAppConfigProblemsAreReportedWithAllOthers(t *testing.T) {
	app := shopSettings{}
	_, err := New("test", WithConfigLoader(testLoader(t, map[string]string{
		"APP__SEED_NOTES":  "-3",
		"APP__SEED_NOTSE":  "3",
		"APP__BETA":        "yes",
		"HTTP__BODY_LIMIT": "lots",
	})), WithAppConfig(&app), WithLogOutput(&syncBuffer{}))
	if err == nil {
		t.Fatal("New accepted a bad [app] section")
	}
	mustContain(t, err.Error(),
		"app.seed_notes (from env TEST_APP__SEED_NOTES): must not be negative",
		`unknown key "app.seed_notse" in env TEST_APP__SEED_NOTSE`,
		"app.beta (from env TEST_APP__BETA): invalid boolean",
		"http.body_limit (from env TEST_HTTP__BODY_LIMIT)")
}

func TestAppSectionWithoutWithAppConfigIsUnknown(t *testing.T) {
	_, err := New("test", WithConfigLoader(testLoader(t, map[string]string{"APP__SEED_NOTES": "3"})), WithLogOutput(&syncBuffer{}))
	if err == nil || !strings.Contains(err.Error(), `unknown key "app.seed_notes"`) {
		t.Fatalf("New = %v, want the [app] key unknown", err)
	}
}

func TestMainPrintsTheAppSection(t *testing.T) {
	var stdout, stderr bytes.Buffer
	app := shopSettings{SeedNotes: 4}
	l := testLoader(t, map[string]string{"APP__SEED_NOTES": "9"})
	if code := mainWith(context.Background(), "test", []string{"-print-config"}, &stdout, &stderr, WithConfigLoader(l), WithAppConfig(&app)); code != 0 {
		t.Fatalf("exit code %d, stderr %s", code, stderr.String())
	}
	mustContain(t, stdout.String(), "app.seed_notes = 9", "TEST_APP__SEED_NOTES", `app.partner_key = "(unset)"`)
}
