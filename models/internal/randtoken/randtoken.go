// Package randtoken makes the random tokens models and models/auth hand out (link
// codes, widget and admin sessions, API tokens, device ids) and the hashes
// they are stored under.
package randtoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// New returns n random bytes, base64url-encoded without padding.
func New(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("randtoken: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash is how session and API tokens are stored and looked up. A token has at
// least 128 random bits, so a plain SHA-256 (no salt, no stretching) makes a
// stolen table useless while keeping lookups by hash.
func Hash(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
