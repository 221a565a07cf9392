package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

func TestDeviceFor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		alice := createAdmin(t, s, "alice@example.com", auth.RoleAdmin)
		createAdmin(t, s, "bob@example.com", auth.RoleAdmin)
		token, err := s.IssueDeviceToken(ctx, alice, testNow)
		if err != nil {
			t.Fatal(err)
		}
		device := func(token, email string, now time.Time) string {
			t.Helper()
			d, err := s.DeviceFor(ctx, token, email, now)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		id := device(token, "ALICE@example.com", testNow.Add(time.Hour))
		if id == "" {
			t.Fatal("a valid token: got no device")
		}
		other, _ := s.IssueDeviceToken(ctx, alice, testNow)
		if device(other, "alice@example.com", testNow) == id {
			t.Error("two browsers got the same device id")
		}
		parts := strings.Split(token, ".")
		flipped := "x" + parts[3][1:]
		if strings.HasPrefix(parts[3], "x") {
			flipped = "y" + parts[3][1:]
		}
		tampered := func(i int, v string) string {
			p := append([]string(nil), parts...)
			p[i] = v
			return strings.Join(p, ".")
		}
		for name, tc := range map[string]struct{ token, email string }{
			"other admin's email":  {token, "bob@example.com"},
			"tampered device id":   {tampered(3, flipped), "alice@example.com"},
			"tampered admin id":    {tampered(1, "2"), "alice@example.com"},
			"tampered issue time":  {tampered(2, "9999999999"), "alice@example.com"},
			"forged mac":           {tampered(4, strings.Repeat("A", len(parts[4]))), "alice@example.com"},
			"malformed":            {"v1.1.2", "alice@example.com"},
			"empty":                {"", "alice@example.com"},
			"oversized":            {token + strings.Repeat("x", 300), "alice@example.com"},
			"NUL in the email too": {token, "alice@example.com\x00"},
		} {
			if d := device(tc.token, tc.email, testNow); d != "" {
				t.Errorf("%s: got device %q, want none", name, d)
			}
		}
		if d := device(token, "alice@example.com", testNow.Add(auth.DeviceCookieMaxAge+time.Second)); d != "" {
			t.Error("expired token: got a device")
		}
	})
}
