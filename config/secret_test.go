package config

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"one newline trimmed", "s3cret\n", "s3cret"},
		{"only one newline trimmed", "s3cret\n\n", "s3cret\n"},
		{"CRLF is one newline", "s3cret\r\n", "s3cret"},
		{"no newline", "s3cret", "s3cret"},
		{"inner space kept", " s3 cret \n", " s3 cret "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayout(t)
			secret := l.write(filepath.Join(l.work, "pw"), tt.content)
			home := l.serviceFile(l.home, "[db]\npassword_file = '"+secret+"'")
			for _, src := range []struct {
				loader Loader
				want   string
			}{
				{l.loader(), home},
				{l.loader("SHOWCASE_DB__PASSWORD_FILE=" + secret), "env SHOWCASE_DB__PASSWORD_FILE"},
			} {
				cfg := defaultTestConfig()
				eff, err := src.loader.Load(&cfg)
				if err != nil {
					t.Fatal(err)
				}
				if cfg.DB.Password != tt.want {
					t.Errorf("password = %q, want %q", cfg.DB.Password, tt.want)
				}
				if got := eff.Source("db.password"); got != src.want {
					t.Errorf("Source = %q, want %q, which named the file", got, src.want)
				}
			}
		})
	}
}

func TestSecretFileProblems(t *testing.T) {
	l := newLayout(t)
	secret := l.write(filepath.Join(l.work, "pw"), "from-file\n")
	missing := filepath.Join(l.work, "missing")
	home := l.serviceFile(l.home, "[db]\npassword = 'in-the-file'\n")

	errs := loadErrors(t, l.loader("SHOWCASE_DB__PASSWORD_FILE="+secret))
	assertProblems(t, errs, []string{
		"db.password (from " + home + "): set only one of db.password and db.password_file (from env SHOWCASE_DB__PASSWORD_FILE)",
	})

	errs = loadErrors(t, l.loader("SHOWCASE_DB__PASSWORD_FILE="+missing))
	assertProblems(t, errs, []string{
		"db.password (from " + home + "): set only one of db.password and db.password_file (from env SHOWCASE_DB__PASSWORD_FILE)",
	})

	l.serviceFile(l.home, "")
	errs = loadErrors(t, l.loader("SHOWCASE_DB__PASSWORD_FILE="+missing))
	assertProblems(t, errs, []string{
		"db.password_file (from env SHOWCASE_DB__PASSWORD_FILE): reading secret file: open " + missing + ": no such file or directory",
	})

	errs = loadErrors(t, l.loader("SHOWCASE_DB__PASSWORD_FILE="+l.work))
	if len(errs) != 1 || errs[0].Key != "db.password_file" || !strings.Contains(errs[0].Error(), "reading secret file") {
		t.Errorf("directory as secret file: %v", errs)
	}
}

func TestSecretEmptyMeansUnset(t *testing.T) {
	l := newLayout(t)
	l.serviceFile(l.home, "[db]\npassword = ''\npassword_file = ''\n")
	cfg := defaultTestConfig()
	eff, err := l.loader().Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := eff.WriteTo(&dump); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dump.String(), `db.password = "(unset)"`) {
		t.Errorf("dump of an empty secret:\n%s", dump.String())
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const value = "hunter2-very-secret"
	l := newLayout(t)
	l.serviceFile(l.home, "[db]\npassword = '"+value+"'\n")
	cfg := defaultTestConfig()
	eff, err := l.loader().Load(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	if _, err := eff.WriteTo(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump.String(), value) || !strings.Contains(dump.String(), `db.password = "[redacted]"`) {
		t.Errorf("dump does not redact the secret:\n%s", dump.String())
	}

	// A secret of the wrong type must not be echoed in the error either.
	l.serviceFile(l.home, "[db]\npassword = 123456789\n")
	errs := loadErrors(t, l.loader())
	if strings.Contains(errs.Error(), "123456789") {
		t.Errorf("error echoes the secret: %v", errs)
	}
}
