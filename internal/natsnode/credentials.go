package natsnode

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/troupehq/troupe/internal/fielderr"
)

// credentials returns the option that authenticates to an external NATS,
// or nil for none. At most one kind may be set; a seed or .creds that does
// not parse is an error naming its field, never quoting it.
func (c Config) credentials() (nats.Option, error) {
	var kinds []string
	for _, f := range []setField{{"Token", c.Token != ""}, {"User", c.User != "" || c.Password != ""}, {"NkeySeed", c.NkeySeed != ""}, {"Creds", c.Creds != ""}} {
		if f.set {
			kinds = append(kinds, f.name)
		}
	}
	if len(kinds) > 1 {
		return nil, fielderr.New(kinds[1], "set one kind of credentials, not %s and %s", kinds[0], kinds[1])
	}
	switch {
	case c.Token != "":
		return nats.Token(c.Token), nil
	case c.User != "" || c.Password != "":
		if c.User == "" || c.Password == "" {
			return nil, fielderr.New("Password", "set User and Password together")
		}
		return nats.UserInfo(c.User, c.Password), nil
	case c.NkeySeed != "":
		return nkeyOption(c.NkeySeed)
	case c.Creds != "":
		return credsOption(c.Creds)
	}
	return nil, nil
}

// nkeyOption signs the server's nonce with a user seed. The key pair is
// parsed again for each signature and wiped after it, as nats.go does for
// seed files, so the seed is not kept decoded in memory.
func nkeyOption(seed string) (nats.Option, error) {
	kp, err := nkeys.ParseDecoratedNKey([]byte(seed))
	if err != nil {
		return nil, fielderr.New("NkeySeed", "not an NKey seed")
	}
	pub, err := kp.PublicKey()
	kp.Wipe()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return nil, fielderr.New("NkeySeed", "not a user NKey seed (it must start with SU)")
	}
	return nats.Nkey(pub, func(nonce []byte) ([]byte, error) {
		kp, err := nkeys.ParseDecoratedNKey([]byte(seed))
		if err != nil {
			return nil, err
		}
		defer kp.Wipe()
		return kp.Sign(nonce)
	}), nil
}

// credsOption authenticates with the user JWT and seed of a .creds file's
// contents.
func credsOption(creds string) (nats.Option, error) {
	token, err := nkeys.ParseDecoratedJWT([]byte(creds))
	if err == nil {
		_, err = jwt.DecodeUserClaims(token)
	}
	if err != nil {
		return nil, fielderr.New("Creds", "no user JWT in the .creds contents")
	}
	kp, err := nkeys.ParseDecoratedUserNKey([]byte(creds))
	if err != nil {
		return nil, fielderr.New("Creds", "no user NKey seed in the .creds contents")
	}
	kp.Wipe()
	return nats.UserCredentialBytes([]byte(creds)), nil
}

// load builds the client TLS configuration, or returns nil when TLS is
// not required. It fails closed: a file that cannot be read or holds no
// usable certificate is an error naming the field, never a fallback to
// the system's roots or to no client certificate. Validate checks
// MinVersion.
func (t TLSConfig) load(required bool) (*tls.Config, error) {
	if !required {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.MinVersion == "1.3" {
		cfg.MinVersion = tls.VersionTLS13
	}
	var errs []error
	if t.CAFile != "" {
		pool, err := loadCA(t.CAFile)
		if err != nil {
			errs = append(errs, fielderr.New("CAFile", "%v", err))
		}
		cfg.RootCAs = pool
	}
	switch {
	case t.CertFile == "" && t.KeyFile == "":
	case t.CertFile == "":
		errs = append(errs, fielderr.New("CertFile", "required with TLS.KeyFile"))
	case t.KeyFile == "":
		errs = append(errs, fielderr.New("KeyFile", "required with TLS.CertFile"))
	default:
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			errs = append(errs, fielderr.New("CertFile", "loading the client certificate and key: %v", err))
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// loadCA reads a PEM bundle of certificate authorities.
func loadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", path)
	}
	return pool, nil
}
