package main

import (
	"fmt"

	"github.com/troupehq/troupe/config"
)

// maxSeedNotes bounds app.seed_notes: seeding is for demos, and a million
// notes would make start-up slow and the list route's pages meaningless.
const maxSeedNotes = 100_000

// settings is the showcase's own section of its config, [app]: keys an
// operator sets like Troupe's own (config file, SHOWCASE_APP__SEED_NOTES).
type settings struct {
	// SeedNotes is how many notes the notes actor starts with.
	SeedNotes int `koanf:"seed_notes"`
	// DemoRoutes mounts the demos, such as GET /api/v2/demo/cycle (a
	// request cycle for the inspector to catch). Off in production.
	DemoRoutes bool `koanf:"demo_routes"`
}

// Validate is run by service.New with every other config check.
func (s *settings) Validate() error {
	if s.SeedNotes < 0 || s.SeedNotes > maxSeedNotes {
		return &config.Error{Key: "seed_notes", Err: fmt.Errorf("must be between 0 and %d, got %d", maxSeedNotes, s.SeedNotes)}
	}
	return nil
}
