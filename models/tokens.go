package models

import "smiledash/models/internal/randtoken"

// randomToken returns n random bytes, base64url-encoded: link codes, widget
// sessions.
func randomToken(n int) (string, error) { return randtoken.New(n) }

// hashToken is how widget session tokens are stored and looked up.
func hashToken(token string) string { return randtoken.Hash(token) }
