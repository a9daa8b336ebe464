package resilience

import (
	"errors"

	"github.com/troupehq/troupe/internal/fielderr"
)

// AdmissionConfig configures Admission, the stage that decides first, before
// a request costs anything, whether the service takes it at all: adaptive
// load shedding for the process as a whole, then the bulkhead of the
// request's route group. It fills the load-shedding slot of the request
// path (DESIGN §4), so a service installs one stage for both.
type AdmissionConfig struct {
	// Shedding configures adaptive load shedding; nil turns it off, as
	// resilience.shedding.enabled = false does.
	Shedding *SheddingConfig
	// Bulkhead configures the per-group bulkheads; with no group bounded
	// (the zero value) there are none.
	Bulkhead BulkheadConfig
}

// Validate reports the problems of both configs, the field paths prefixed
// with "Shedding" or "Bulkhead".
func (cfg AdmissionConfig) Validate() error {
	var errs []error
	if cfg.Shedding != nil {
		errs = append(errs, fielderr.Prefix("Shedding", cfg.Shedding.Validate()))
	}
	errs = append(errs, fielderr.Prefix("Bulkhead", cfg.Bulkhead.Validate()))
	return errors.Join(errs...)
}
