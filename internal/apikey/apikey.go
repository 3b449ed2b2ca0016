// Package apikey makes and checks clients' API keys: "ck_live_" and 26
// characters of crypto/rand.Text (128 bits of randomness). A key is shown
// once; only its SHA-256 is stored, and a presented key is looked up by its
// hash. It uses the standard library only.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
)

// Prefix starts every key, so a leaked one is recognisable (secret scanners,
// logs) and a wrong header is told apart from a wrong key.
const Prefix = "ck_live_"

// bodyLen is the length of rand.Text's output.
const bodyLen = 26

// ShownLen is how much of a key is kept in clear to tell keys apart: the
// prefix and 4 characters.
const ShownLen = len(Prefix) + 4

// ErrMalformed: the presented string cannot be a key of ours.
var ErrMalformed = errors.New("not a cortexctl API key: keys look like ck_live_ followed by 26 letters and digits")

// Key is a new key: Secret is shown to its owner once, Hash and Shown are stored.
type Key struct {
	Secret string
	Hash   []byte
	Shown  string
}

// New makes a key.
func New() Key {
	secret := Prefix + rand.Text()
	return Key{Secret: secret, Hash: Hash(secret), Shown: secret[:ShownLen]}
}

// Hash is what is stored of a key and what a presented key is looked up by.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Check reports whether s has the shape of a key, before any lookup.
func Check(s string) error {
	body, ok := strings.CutPrefix(s, Prefix)
	if !ok || len(body) != bodyLen {
		return ErrMalformed
	}
	for _, r := range body {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return ErrMalformed
		}
	}
	return nil
}
