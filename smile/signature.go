package smile

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// SignatureHeader is the header in which Smile sends the HMAC-SHA512 of the body.
const SignatureHeader = "Smile-Signature"

// Signature errors. They say what was wrong with the header, never what the secret is.
var (
	ErrSignatureMissing   = errors.New("smile: Smile-Signature header missing")
	ErrSignatureMalformed = errors.New("smile: Smile-Signature is not 128 hex characters")
	ErrSignatureMismatch  = errors.New("smile: Smile-Signature does not match any webhook secret")
)

// Verify checks header, the hex HMAC-SHA512 Smile computes over the exact raw
// body, against each configured secret in constant time. It returns the index of
// the secret that matched, so rotation can be observed: the first secret is the
// current one, later ones are being retired. Hex of either case is accepted.
func Verify(secrets [][]byte, body []byte, header string) (int, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return -1, ErrSignatureMissing
	}
	var got [sha512.Size]byte
	if len(header) != hex.EncodedLen(sha512.Size) {
		return -1, ErrSignatureMalformed
	}
	if _, err := hex.Decode(got[:], []byte(header)); err != nil {
		return -1, ErrSignatureMalformed
	}
	matched := -1
	for i, secret := range secrets {
		// Every secret is tried, even after a match, so timing does not reveal which one matched.
		if hmac.Equal(got[:], Sign(secret, body)) && matched < 0 {
			matched = i
		}
	}
	if matched < 0 {
		return -1, ErrSignatureMismatch
	}
	return matched, nil
}

// Sign returns the raw HMAC-SHA512 of body under secret.
func Sign(secret, body []byte) []byte {
	mac := hmac.New(func() hash.Hash { return sha512.New() }, secret)
	mac.Write(body)
	return mac.Sum(nil)
}

// SignatureFor returns the Smile-Signature header value for body: lowercase hex,
// as Smile's own samples produce.
func SignatureFor(secret, body []byte) string {
	return hex.EncodeToString(Sign(secret, body))
}
