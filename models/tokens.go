package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// randomToken returns n random bytes, base64url-encoded without padding: link
// codes, widget and admin sessions, API tokens.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("models: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashToken is how session and API tokens are stored and looked up. A token
// has at least 128 random bits, so a plain SHA-256 (no salt, no stretching)
// makes a stolen table useless while keeping lookups by hash.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
