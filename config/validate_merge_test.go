package config

import (
	"errors"
	"testing"
)

// validated is a destination whose Validate checks port, to show that Load
// attributes each validation problem to the source of its key.
type validated struct {
	Port  int    `koanf:"port"`
	Name  string `koanf:"name"`
	Other error  `koanf:"-"`
}

func (v *validated) Validate() error {
	var errs Errors
	if v.Port < 1 {
		errs = append(errs, &Error{Key: "port", Err: errors.New("must be positive")})
	}
	if v.Name == "" {
		errs = append(errs, &Error{Key: "name", Err: errors.New("must be set")})
	}
	if v.Other != nil {
		return v.Other
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func TestLoadMergesValidate(t *testing.T) {
	l := newLayout(t)
	home := l.serviceFile(l.home, "port = 0\n")

	var dst validated
	errs := loadErrorsInto(t, l.loader(), &dst)
	assertProblems(t, errs, []string{
		"name (from default): must be set",
		"port (from " + home + "): must be positive",
	})

	// A problem the decoder already reported is not repeated by Validate,
	// whose view of that key is only the default.
	dst = validated{Name: "x"}
	errs = loadErrorsInto(t, l.loader("SHOWCASE_PORT=zero"), &dst)
	assertProblems(t, errs, []string{`port (from env SHOWCASE_PORT): invalid integer "zero" (want a whole number between -9223372036854775808 and 9223372036854775807)`})

	dst = validated{Port: 1, Name: "x", Other: errors.New("plain failure")}
	l.serviceFile(l.home, "")
	errs = loadErrorsInto(t, l.loader(), &dst)
	assertProblems(t, errs, []string{"plain failure"})

	dst = validated{Port: 1, Name: "x", Other: &Error{Key: "name", Source: "custom", Err: errors.New("one")}}
	errs = loadErrorsInto(t, l.loader(), &dst)
	assertProblems(t, errs, []string{"name (from custom): one"})
}
