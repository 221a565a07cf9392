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

func TestCreateAPIToken(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		a := createAdmin(t, s, "alice@example.com", auth.RoleAdmin)
		plain, tok, err := s.CreateAPIToken(ctx, auth.NewAPIToken{Name: " reporting ", Role: auth.RoleViewer, CreatedBy: &a.ID}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, auth.APITokenPrefix) || len(plain) < 40 || !strings.HasPrefix(plain, tok.Prefix) {
			t.Fatalf("got token %q prefix %q, want a long sdk_ token starting with its prefix", plain, tok.Prefix)
		}
		if tok.Name != "reporting" || tok.TokenHash == plain || tok.CreatedBy == nil || *tok.CreatedBy != a.ID {
			t.Fatalf("got %+v, want a stored, hashed token made by alice", tok)
		}

		got, err := s.APITokenByToken(ctx, plain, testNow.Add(time.Hour))
		if err != nil || got.ID != tok.ID || got.Role != auth.RoleViewer {
			t.Fatalf("got %+v, %v; want the token", got, err)
		}
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(testNow.Add(time.Hour)) {
			t.Fatalf("got last used %v, want %v", got.LastUsedAt, testNow.Add(time.Hour))
		}
		for _, bad := range []string{"", plain + "x", tok.TokenHash, strings.TrimPrefix(plain, auth.APITokenPrefix)} {
			if _, err := s.APITokenByToken(ctx, bad, testNow); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("token %q: got %v, want ErrNotFound", bad, err)
			}
		}

		if err := s.RevokeAPIToken(ctx, tok.ID, testNow.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIToken(ctx, tok.ID, testNow.Add(3*time.Hour)); err != nil {
			t.Fatalf("revoking twice: got %v, want nil", err)
		}
		if _, err := s.APITokenByToken(ctx, plain, testNow.Add(4*time.Hour)); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("revoked: got %v, want ErrNotFound", err)
		}
		if err := s.RevokeAPIToken(ctx, tok.ID+100, testNow); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown id: got %v, want ErrNotFound", err)
		}
		list, err := s.APITokens(ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil || !list[0].RevokedAt.Equal(testNow.Add(2*time.Hour)) {
			t.Fatalf("got %+v, %v; want one token revoked at the first revocation", list, err)
		}
	})
}

func TestCreateAPIToken_Refused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		if _, _, err := s.CreateAPIToken(ctx, auth.NewAPIToken{Name: "  ", Role: auth.RoleViewer}, testNow); !errors.Is(err, auth.ErrInvalidTokenName) {
			t.Fatalf("empty name: got %v, want ErrInvalidTokenName", err)
		}
		if _, _, err := s.CreateAPIToken(ctx, auth.NewAPIToken{Name: "ci", Role: "owner"}, testNow); !errors.Is(err, auth.ErrInvalidRole) {
			t.Fatalf("bad role: got %v, want ErrInvalidRole", err)
		}
	})
}
