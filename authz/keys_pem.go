package authz

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// loadPublicKeyFile reads one PEM public key or certificate. The file's base
// name without its extension is the key's kid ("keys/2026-01.pem" has kid
// "2026-01"), so each file holds exactly one key: a PUBLIC KEY (PKIX: RSA,
// ECDSA or Ed25519), an RSA PUBLIC KEY (PKCS #1), or a CERTIFICATE whose
// leaf key is used (further CERTIFICATE blocks, a chain, are allowed and
// ignored). Private keys are refused so they are not deployed by mistake.
func loadPublicKeyFile(path string) (*verificationKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := parsePublicKeyPEM(data)
	if err != nil {
		return nil, err
	}
	family, err := familyOf(pub)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	return &verificationKey{
		kid:    strings.TrimSuffix(base, filepath.Ext(base)),
		family: family,
		key:    pub,
		source: path,
	}, nil
}

// parsePublicKeyPEM extracts the single public key from PEM data.
func parsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	var pub crypto.PublicKey
	var first string
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errors.New("holds a private key; configure the public key only")
		}
		if pub != nil {
			if first == "CERTIFICATE" && block.Type == "CERTIFICATE" {
				continue // the rest of a chain
			}
			return nil, fmt.Errorf("holds more than one key (a %s block after a %s); use one file per key", block.Type, first)
		}
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("unexpected PEM block %q (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", block.Type, err)
		}
		first = block.Type
	}
	if pub == nil {
		return nil, errors.New("no PEM public key or certificate found")
	}
	return pub, nil
}
