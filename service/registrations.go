package service

import (
	"errors"
	"fmt"
)

// collectSubsystemChecks adds the checks of subsystems that report health.
func (s *Service) collectSubsystemChecks() {
	for _, sub := range s.opts.subsystems {
		reporter, ok := sub.(HealthReporter)
		if !ok {
			continue
		}
		for _, hc := range reporter.HealthChecks() {
			c := &check{name: sub.Name() + ":" + hc.Name, fn: hc.Check, optional: hc.Optional}
			if hc.Liveness {
				s.opts.liveness = append(s.opts.liveness, c)
			} else {
				s.opts.readiness = append(s.opts.readiness, c)
			}
		}
	}
}

// checkRegistrations rejects health checks and subsystems that cannot work.
func (s *Service) checkRegistrations() error {
	var errs []error
	seen := map[string]bool{}
	for kind, list := range map[string][]*check{"readiness": s.opts.readiness, "liveness": s.opts.liveness} {
		for _, c := range list {
			switch {
			case c.name == "":
				errs = append(errs, fmt.Errorf("%s check: empty name", kind))
			case c.fn == nil:
				errs = append(errs, fmt.Errorf("%s check %q: nil function", kind, c.name))
			case seen[kind+"/"+c.name]:
				errs = append(errs, fmt.Errorf("%s check %q: registered twice", kind, c.name))
			}
			seen[kind+"/"+c.name] = true
		}
	}
	for i, sub := range s.opts.subsystems {
		if sub == nil {
			errs = append(errs, fmt.Errorf("subsystem %d: nil", i))
		}
	}
	return errors.Join(errs...)
}
