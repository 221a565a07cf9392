package smile_test

import (
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
		idx, err := smile.Verify([][]byte{secret}, body, header)
		if err == nil && (idx != 0 || smile.SignatureFor(secret, body) == "") {
			t.Fatalf("verified with index %d", idx)
		}
		if _, err := smile.Verify([][]byte{secret}, body, smile.SignatureFor(secret, body)); err != nil {
			t.Fatalf("a body's own signature did not verify: %v", err)
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
