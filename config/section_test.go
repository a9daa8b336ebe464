package config

import (
	"bytes"
	"errors"

	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appSettings is a service's own section, as WithAppConfig would declare it.
type appSettings struct {
	SeedNotes  int           `koanf:"seed_notes"`
	PartnerURL string        `koanf:"partner_url"`
	APIKey     string        `koanf:"api_key" secret:"true"`
	Refresh    time.Duration `koanf:"refresh"`
	Features   struct {
		Beta bool `koanf:"beta"`
	} `koanf:"features"`
}

// Validate is found and run by the loader, its keys named under [app].
func (a *appSettings) Validate() error {
	var errs Errors
	if a.SeedNotes > 1000 {
		errs = append(errs, &Error{Key: "seed_notes", Err: errors.New("must be at most 1000")})
	}
	if a.PartnerURL != "" && !strings.HasPrefix(a.PartnerURL, "https://") {
		errs = append(errs, &Error{Key: "partner_url", Err: errors.New("must be an https URL")})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func TestSectionLoadsFromEverySourceInOrder(t *testing.T) {
	l := newLayout(t)
	home := l.serviceFile(l.home, "[app]\nseed_notes = 5\npartner_url = 'https://home.example'\n")
	work := l.write(filepath.Join(l.work, "config.toml"), "[app]\nseed_notes = 7\n[app.features]\nbeta = true\n")
	secret := l.write(filepath.Join(l.work, "key"), "s3cret\n")

	cfg := defaultTestConfig()
	app := appSettings{SeedNotes: 1, Refresh: time.Minute}
	ld := l.loader("SHOWCASE_APP__REFRESH=5s", "SHOWCASE_APP__API_KEY_FILE="+secret)
	ld.Sections = []Section{{Name: "app", Into: &app}}
	eff, err := ld.Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if app.SeedNotes != 7 || app.PartnerURL != "https://home.example" || !app.Features.Beta || app.Refresh != 5*time.Second || app.APIKey != "s3cret" {
		t.Errorf("app = %+v", app)
	}
	if cfg.Name != "svc" || cfg.Port != 8080 {
		t.Errorf("the main config lost its defaults: %+v", cfg)
	}
	for key, want := range map[string]string{
		"app.seed_notes":    work,
		"app.partner_url":   home,
		"app.features.beta": work,
		"app.refresh":       "env SHOWCASE_APP__REFRESH",
		"app.api_key":       "env SHOWCASE_APP__API_KEY_FILE",
		"name":              "default",
	} {
		if got := eff.Source(key); got != want {
			t.Errorf("source of %s = %q, want %q", key, got, want)
		}
	}
	var dump bytes.Buffer
	if _, err := eff.WriteTo(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump.String(), "s3cret") || !strings.Contains(dump.String(), `app.api_key = "[redacted]"`) {
		t.Errorf("dump does not redact the section's secret:\n%s", dump.String())
	}
	mustContainAll(t, dump.String(), "app.seed_notes = 7", `app.refresh = "5s"`)
}

func TestSectionIsAsStrictAsTroupesKeys(t *testing.T) {
	l := newLayout(t)
	file := l.write(filepath.Join(l.work, "config.toml"), "[app]\nseed_notse = 5\nrefresh = 10\n")
	cfg := defaultTestConfig()
	app := appSettings{}
	ld := l.loader("SHOWCASE_APP__SEED_NOTES=many", "SHOWCASE_APP__NOPE=1")
	ld.Sections = []Section{{Name: "app", Into: &app}}
	errs := loadErrorsInto(t, ld, &cfg)
	got := errs.Error()
	mustContainAll(t, got,
		`unknown key "app.seed_notse" in `+file,
		`app.refresh (from `+file+`): durations need a unit`,
		`app.seed_notes (from env SHOWCASE_APP__SEED_NOTES): invalid integer "many"`,
		`unknown key "app.nope" in env SHOWCASE_APP__NOPE`,
	)
}

func TestSectionValidateNamesKeysUnderTheSection(t *testing.T) {
	l := newLayout(t)
	cfg := defaultTestConfig()
	app := appSettings{}
	ld := l.loader("SHOWCASE_APP__SEED_NOTES=5000", "SHOWCASE_APP__PARTNER_URL=http://x", "SHOWCASE_PORT=x")
	ld.Sections = []Section{{Name: "app", Into: &app}}
	got := loadErrorsInto(t, ld, &cfg).Error()
	mustContainAll(t, got,
		"app.seed_notes (from env SHOWCASE_APP__SEED_NOTES): must be at most 1000",
		"app.partner_url (from env SHOWCASE_APP__PARTNER_URL): must be an https URL",
		"port (from env SHOWCASE_PORT): invalid integer",
	)
}

func TestSectionMustBeAPointerToAStruct(t *testing.T) {
	l := newLayout(t)
	cfg := defaultTestConfig()
	var n int
	for _, s := range []Section{{Name: "app", Into: n}, {Name: "app", Into: (*appSettings)(nil)}, {Name: "App!", Into: &appSettings{}}} {
		ld := l.loader()
		ld.Sections = []Section{s}
		if _, err := ld.Load(&cfg); err == nil {
			t.Errorf("Load with section %+v succeeded", s)
		}
	}
	ld := l.loader()
	ld.Sections = []Section{{Name: "name", Into: &appSettings{}}} // clashes with testConfig's key
	if _, err := ld.Load(&cfg); err == nil || !strings.Contains(err.Error(), `"name" is declared twice`) {
		t.Errorf("a section named like an existing key: %v", err)
	}
}

func mustContainAll(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("missing %q in:\n%s", p, s)
		}
	}
}
