package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func createLink(t *testing.T, s *models.Store, ref string, expires *time.Time) models.Link {
	t.Helper()
	l, err := s.CreateLink(context.Background(), models.NewLink{ExternalRef: ref, Label: "Ana", ExpiresAt: expires, CreatedBy: "test", Now: t0})
	if err != nil {
		t.Fatalf("create link: %v", err)
	}
	return l
}

func actionKinds(t *testing.T, s *models.Store, linkID int64) []string {
	t.Helper()
	var kinds []string
	if err := s.DB().Model(&models.Action{}).Where("link_id = ?", linkID).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatal(err)
	}
	return kinds
}

func TestCreateLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		a := createLink(t, s, "crm-42", nil)
		b := createLink(t, s, "crm-42", nil)
		if len(a.Code) != models.LinkCodeLen || a.Code == b.Code {
			t.Fatalf("codes %q and %q: want two distinct %d-character codes", a.Code, b.Code, models.LinkCodeLen)
		}
		got, err := s.LinkByCode(ctx, a.Code)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != a.ID || got.ExternalRef != "crm-42" || got.Label != "Ana" || got.CreatedBy != "test" || got.SmileUserID != "" {
			t.Errorf("got %+v, want the created link", got)
		}
		if st := got.State(t0); st != models.LinkActive {
			t.Errorf("got state %s, want active", st)
		}
		if kinds := actionKinds(t, s, a.ID); strings.Join(kinds, ",") != models.ActionLinkCreated {
			t.Errorf("got actions %v, want [link_created]", kinds)
		}
		if _, err := s.LinkByCode(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown code: got %v, want ErrNotFound", err)
		}
		list, err := s.Links(ctx, 0, 10)
		if err != nil || len(list) != 2 || list[0].ID != b.ID {
			t.Fatalf("got %d links (err %v), want 2 newest first", len(list), err)
		}
		older, err := s.Links(ctx, b.ID, 10)
		if err != nil || len(older) != 1 || older[0].ID != a.ID {
			t.Fatalf("page before %d: got %v (err %v), want only %d", b.ID, older, err, a.ID)
		}
	})
}

func TestCreateLink_Invalid(t *testing.T) {
	s := storetest.SQLite(t)
	past := t0.Add(-time.Hour)
	for name, in := range map[string]models.NewLink{
		"empty ref":     {Now: t0},
		"long ref":      {ExternalRef: strings.Repeat("x", models.MaxExternalRefLen+1), Now: t0},
		"non-ascii ref": {ExternalRef: "José", Now: t0},
		"control char":  {ExternalRef: "a\nb", Now: t0},
		"long label":    {ExternalRef: "r", Label: strings.Repeat("é", models.MaxLinkLabelLen), Now: t0},
		"past expiry":   {ExternalRef: "r", ExpiresAt: &past, Now: t0},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.CreateLink(context.Background(), in); !errors.Is(err, models.ErrInvalidLink) {
				t.Errorf("got %v, want ErrInvalidLink", err)
			}
		})
	}
	if list, _ := s.Links(context.Background(), 0, 10); len(list) != 0 {
		t.Errorf("got %d links stored, want none", len(list))
	}
}

func TestLinkStateAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		exp := t0.Add(72 * time.Hour)
		l := createLink(t, s, "crm-7", &exp)
		if st := l.State(exp.Add(-time.Second)); st != models.LinkActive {
			t.Errorf("before expiry: got %s", st)
		}
		if st := l.State(exp); st != models.LinkExpired {
			t.Errorf("at expiry: got %s, want expired", st)
		}
		r, err := s.RevokeLink(ctx, l.ID, "admin@example.com", t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r.RevokedAt == nil || r.State(t0) != models.LinkRevoked {
			t.Fatalf("got %+v, want revoked", r)
		}
		again, err := s.RevokeLink(ctx, l.ID, "admin@example.com", t0.Add(2*time.Hour))
		if err != nil || !again.RevokedAt.Equal(*r.RevokedAt) {
			t.Errorf("second revoke: got %v (err %v), want the first revocation kept", again.RevokedAt, err)
		}
		if kinds := strings.Join(actionKinds(t, s, l.ID), ","); kinds != "link_created,link_revoked" {
			t.Errorf("got actions %s, want one link_revoked", kinds)
		}
		if _, err := s.RevokeLink(ctx, 9999, "x", t0); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown link: got %v, want ErrNotFound", err)
		}
	})
}

func TestEnsureSmileUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		k1, err := s.EnsureSmileUser(ctx, "sandbox-aaaa")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := s.EnsureSmileUser(ctx, "sandbox-aaaa")
		if err != nil || k2 != k1 {
			t.Fatalf("second call: got %d (err %v), want %d", k2, err, k1)
		}
		k3, _ := s.EnsureSmileUser(ctx, "sandbox-bbbb")
		if k3 == k1 {
			t.Errorf("two users share key %d", k1)
		}
		if _, err := s.EnsureSmileUser(ctx, ""); err == nil {
			t.Error("empty id: want an error")
		}
	})
}

func TestAttachSmileUser_FirstWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		l := createLink(t, s, "crm-9", nil)
		var wg sync.WaitGroup
		got := make([]models.Link, 4)
		for i := range got {
			wg.Go(func() {
				var err error
				got[i], err = s.AttachSmileUser(ctx, l.ID, "sandbox-racer-"+string(rune('a'+i)))
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, g := range got {
			if g.SmileUserID == "" || g.SmileUserID != got[0].SmileUserID || g.UserKey == nil {
				t.Fatalf("got users %q and %q, want every caller to see the one winner", g.SmileUserID, got[0].SmileUserID)
			}
		}
		if err := s.MarkLinkOpened(ctx, got[0], t0, map[string]any{"first_open": true}); err != nil {
			t.Fatal(err)
		}
		after, _ := s.LinkByID(ctx, l.ID)
		if after.OpenCount != 1 || after.LastOpenedAt == nil || !after.LastOpenedAt.Equal(t0) {
			t.Errorf("got open count %d, last opened %v; want 1 at %v", after.OpenCount, after.LastOpenedAt, t0)
		}
		var a struct {
			UserKey *int64
			Detail  string
		}
		err := s.DB().Raw("SELECT user_key, detail FROM actions WHERE link_id = ? AND kind = ?", l.ID, models.ActionLinkOpened).
			Row().Scan(&a.UserKey, &a.Detail)
		if err != nil {
			t.Fatal(err)
		}
		if a.UserKey == nil || *a.UserKey != *after.UserKey || !strings.Contains(a.Detail, `"first_open":true`) {
			t.Errorf("got action %+v, want it bound to the link's user with its detail", a)
		}
	})
}
