package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

func TestSignedInByToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		a := createAdmin(t, s, "alice@example.com", auth.RoleAdmin)
		token, sess, err := s.CreateSession(ctx, a.ID, auth.SessionClient{UserAgent: "Test\xffBrowser", IP: "192.0.2.1"}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 40 || sess.TokenHash == token || strings.Contains(sess.TokenHash, token) {
			t.Fatalf("got token %q hash %q, want a long token stored only as its hash", token, sess.TokenHash)
		}
		if sess.CSRFToken == "" || sess.CSRFToken == token || sess.UserAgent != "TestBrowser" {
			t.Fatalf("got %+v, want a separate CSRF token and a UTF-8 user agent", sess)
		}
		if !sess.ExpiresAt.Equal(testNow.Add(auth.SessionMaxAge)) {
			t.Fatalf("got expiry %v, want %v", sess.ExpiresAt, testNow.Add(auth.SessionMaxAge))
		}
		in, err := s.SignedInByToken(ctx, token, testNow.Add(time.Hour))
		if err != nil {
			t.Fatalf("got %v, want a valid session", err)
		}
		if in.Admin.ID != a.ID || in.Session.CSRFToken != sess.CSRFToken {
			t.Fatalf("got %+v, want alice's session", in)
		}
		if !in.Session.LastSeenAt.Equal(testNow.Add(time.Hour)) {
			t.Fatalf("got last seen %v, want it moved to %v", in.Session.LastSeenAt, testNow.Add(time.Hour))
		}
		for _, bad := range []string{"", "x", token + "x", sess.TokenHash} {
			if _, err := s.SignedInByToken(ctx, bad, testNow); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("token %q: got %v, want ErrNotFound", bad, err)
			}
		}
		if err := s.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignedInByToken(ctx, token, testNow.Add(time.Hour)); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("after sign-out: got %v, want ErrNotFound", err)
		}
	})
}

func TestSignedInByToken_Expiry(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		a := createAdmin(t, s, "alice@example.com", auth.RoleAdmin)
		newSession := func() string {
			token, _, err := s.CreateSession(ctx, a.ID, auth.SessionClient{}, testNow)
			if err != nil {
				t.Fatal(err)
			}
			return token
		}

		t.Run("idle", func(t *testing.T) {
			token := newSession()
			_, err := s.SignedInByToken(ctx, token, testNow.Add(auth.SessionIdleTimeout))
			if !errors.Is(err, auth.ErrAdminSessionExpired) || !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("got %v, want ErrAdminSessionExpired (and ErrNotFound)", err)
			}
			if _, err := s.SessionByToken(ctx, token); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("got %v, want the expired session deleted", err)
			}
		})
		t.Run("active until absolute expiry", func(t *testing.T) {
			token := newSession()
			now := testNow
			for now.Before(testNow.Add(auth.SessionMaxAge)) {
				if _, err := s.SignedInByToken(ctx, token, now); err != nil {
					t.Fatalf("at %v: got %v, want the active session valid", now.Sub(testNow), err)
				}
				now = now.Add(auth.SessionIdleTimeout - time.Minute)
			}
			if _, err := s.SignedInByToken(ctx, token, now); !errors.Is(err, auth.ErrAdminSessionExpired) {
				t.Fatalf("after %v: got %v, want ErrAdminSessionExpired", now.Sub(testNow), err)
			}
		})
		t.Run("delete expired", func(t *testing.T) {
			fresh := newSession()
			if _, err := s.SignedInByToken(ctx, fresh, testNow.Add(auth.SessionIdleTimeout-time.Minute)); err != nil {
				t.Fatal(err)
			}
			stale := newSession()
			n, err := s.DeleteExpiredSessions(ctx, testNow.Add(auth.SessionIdleTimeout))
			if err != nil || n != 1 {
				t.Fatalf("got %d, %v; want the one idle session deleted", n, err)
			}
			if _, err := s.SessionByToken(ctx, stale); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("stale session: got %v, want deleted", err)
			}
			if _, err := s.SessionByToken(ctx, fresh); err != nil {
				t.Fatalf("fresh session: got %v, want kept", err)
			}
		})
	})
}
