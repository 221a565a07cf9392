package smile_test

import (
	"bytes"
	"testing"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// FuzzVerifyAndParse feeds arbitrary bodies and headers through verification
// and envelope parsing: neither may panic, a body verifies only under the MAC
// of its exact bytes, and a parsed envelope always has its required fields.
func FuzzVerifyAndParse(f *testing.F) {
	secret := []byte(smiletest.FixtureSecret)
	for _, typ := range smiletest.EventTypes() {
		body := smiletest.Event(typ)
		f.Add(body, smile.SignatureFor(secret, body))
	}
	f.Add([]byte(`{}`), "")
	f.Add([]byte(`{"id":"x","type":"T","createdAt":"2026-01-01T00:00:00Z","data":[]}`), "zz")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		secrets := [][]byte{secret}
		own := smile.SignatureFor(secret, body)
		if idx, err := smile.Verify(secrets, body, header); err == nil && idx != 0 {
			t.Fatalf("verified with index %d of one secret", idx)
		}
		if _, err := smile.Verify(secrets, body, own); err != nil {
			t.Fatalf("a body's own signature did not verify: %v", err)
		}
		// The MAC of these exact bytes must not verify any other bytes.
		for name, other := range variants(body) {
			if _, err := smile.Verify(secrets, other, own); err == nil {
				t.Fatalf("%s body verified under the original's signature", name)
			}
		}
		// Nor may the body verify under another secret's MAC.
		if _, err := smile.Verify(secrets, body, smile.SignatureFor(append(bytes.Clone(secret), 'x'), body)); err == nil {
			t.Fatal("body verified under a different secret's signature")
		}
		env, err := smile.ParseEnvelope(body)
		if err != nil {
			return
		}
		if env.ID == "" || env.Type == "" || env.CreatedAt.IsZero() || len(env.ID) > smile.MaxEventIDLength {
			t.Fatalf("parsed an envelope without its required fields: %+v", env)
		}
		_ = env.Data.Subject()
		_ = env.Data.Account()
		_, _ = env.Type.DataEvent()
	})
}

// variants are bodies that differ from body by one flipped bit in the first,
// middle and last byte, by truncation and by one appended byte.
func variants(body []byte) map[string][]byte {
	out := map[string][]byte{"appended": append(bytes.Clone(body), 0)}
	if len(body) == 0 {
		return out
	}
	for name, i := range map[string]int{"first byte flipped": 0, "middle byte flipped": len(body) / 2, "last byte flipped": len(body) - 1} {
		b := bytes.Clone(body)
		b[i] ^= 0x01
		out[name] = b
	}
	out["truncated"] = body[:len(body)-1]
	return out
}
