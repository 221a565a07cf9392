package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

func openedLink(t *testing.T, s *models.Store, ref, smileID string) models.Link {
	t.Helper()
	l := createLink(t, s, ref, nil)
	l, err := s.AttachSmileUser(context.Background(), l.ID, smileID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestWidgetSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		l := openedLink(t, s, "crm-1", "sandbox-one")
		other := openedLink(t, s, "crm-2", "sandbox-two")
		token, ws, err := s.CreateWidgetSession(ctx, l, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 40 {
			t.Fatalf("token %q is too short to be unguessable", token)
		}
		var stored models.WidgetSession
		if err := s.DB().Take(&stored, ws.ID).Error; err != nil {
			t.Fatal(err)
		}
		if stored.TokenHash == token || strings.Contains(stored.TokenHash, token) || len(stored.TokenHash) != 64 {
			t.Errorf("stored %q: want only a SHA-256 hex of the token", stored.TokenHash)
		}

		got, err := s.CheckWidgetSession(ctx, token, l, t0.Add(59*time.Minute))
		if err != nil || got.ID != ws.ID || got.SmileUserID != "sandbox-one" {
			t.Fatalf("valid session: got %+v, %v", got, err)
		}
		for name, tc := range map[string]struct {
			token string
			link  models.Link
			at    time.Time
			want  error
		}{
			"forged":       {forged(token), l, t0, models.ErrSessionUnknown},
			"empty":        {"", l, t0, models.ErrSessionUnknown},
			"huge":         {strings.Repeat("a", 10000), l, t0, models.ErrSessionUnknown},
			"other link":   {token, other, t0, models.ErrSessionForeign},
			"expired":      {token, l, t0.Add(time.Hour), models.ErrSessionExpired},
			"revoked link": {token, revoked(l), t0, models.ErrSessionRevoked},
		} {
			t.Run(name, func(t *testing.T) {
				if _, err := s.CheckWidgetSession(ctx, tc.token, tc.link, tc.at); !errors.Is(err, tc.want) {
					t.Errorf("got %v, want %v", err, tc.want)
				}
			})
		}
		if err := s.TouchWidgetSession(ctx, ws.ID, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().Take(&stored, ws.ID).Error; err != nil || stored.LastUsedAt == nil {
			t.Errorf("last used: got %v (err %v), want set", stored.LastUsedAt, err)
		}

		// Long-expired sessions are swept when new ones are made.
		if _, _, err := s.CreateWidgetSession(ctx, l, t0.Add(26*time.Hour), time.Hour); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.DB().Model(&models.WidgetSession{}).Where("token_hash = ?", stored.TokenHash).Count(&n).Error; err != nil {
			t.Fatalf("count rows: %v", err)
		}
		if n != 0 {
			t.Errorf("expired session still stored a day later")
		}
	})
}

func TestCreateWidgetSession_NeedsSmileUser(t *testing.T) {
	s := storetest.SQLite(t)
	l := createLink(t, s, "crm-3", nil)
	if _, _, err := s.CreateWidgetSession(context.Background(), l, t0, time.Hour); err == nil {
		t.Error("want an error for a link never opened")
	}
}

func revoked(l models.Link) models.Link {
	at := t0
	l.RevokedAt = &at
	return l
}

// forged changes a token's first character: always another token.
func forged(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}
