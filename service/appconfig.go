package service

import "github.com/troupehq/troupe/config"

// appSection is the table that holds the service's own settings.
const appSection = "app"

// WithAppConfig declares the service's own settings — a database URL, a
// feature flag, a partner's API key — as the [app] section of its config.
// cfg is a non-nil pointer to a struct whose fields carry koanf tags (the
// same tags Troupe's own sections use); the values it holds when New is
// called are the defaults.
//
// New loads the section from the same sources in the same order as every
// other key (defaults, XDG files, ./config.toml or --config, then
// <SERVICE>_APP__<KEY> variables) with the same strictness: an unknown key or
// a malformed value is a start-up error naming the key and its source.
// Fields tagged secret:"true" accept a <key>_file sibling and are redacted in
// -print-config and /configz, which list the section's keys with their
// sources. When *cfg has a Validate() error method, New runs it after
// loading and reports its problems together with all others; return a
// *config.Error or config.Errors with Key set to the field's key
// ("seed_notes") to have it named "app.seed_notes" with its source.
//
//	type settings struct {
//		SeedNotes int    `koanf:"seed_notes"`
//		PartnerKey string `koanf:"partner_key" secret:"true"`
//	}
//	app := settings{SeedNotes: 20}
//	svc, err := service.New("notes", service.WithAppConfig(&app))
func WithAppConfig(cfg any) Option {
	return func(o *options) { o.app = cfg }
}

// appSections returns the sections New loads beside Troupe's own.
func (o *options) appSections() []config.Section {
	if o.app == nil {
		return nil
	}
	return []config.Section{{Name: appSection, Into: o.app}}
}
