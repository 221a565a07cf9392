package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

func TestRecordAudit_KeysetPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		admin := createAdmin(t, s, "auditor@example.com", auth.RoleAdmin)
		for i := range 7 {
			e := models.AuditEntry{At: testNow, Action: models.AuditTokenCreated, Target: fmt.Sprintf("token %d", i), Details: "role viewer\x00"}
			if i%2 == 1 {
				e.Action = models.AuditLinkCreated
			}
			if err := s.RecordAudit(ctx, e.ByAdmin(admin)); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		page := models.AuditPage{}
		for first := true; first || page.Next != 0; first = false {
			var err error
			page, err = s.AuditLog(ctx, models.AuditQuery{Before: page.Next, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Entries {
				seen = append(seen, e.Target)
				if e.Actor != admin.Email || e.ActorAdminID == nil || *e.ActorAdminID != admin.ID || e.Details != "role viewer" || !e.At.Equal(testNow) {
					t.Errorf("got %+v, want the admin's entry at %v without NUL", e, testNow)
				}
			}
		}
		if want := "[token 6 token 5 token 4 token 3 token 2 token 1 token 0]"; fmt.Sprint(seen) != want {
			t.Errorf("got %v, want %s (newest first, each once)", seen, want)
		}
		links, err := s.AuditLog(ctx, models.AuditQuery{Action: models.AuditLinkCreated})
		if err != nil || len(links.Entries) != 3 || links.Next != 0 {
			t.Errorf("by action: got %d entries (next %d), %v; want 3", len(links.Entries), links.Next, err)
		}
	})
}

func TestSetAdminRole_ProtectsLastAdminAndSelf(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		ana := createAdmin(t, s, "ana@example.com", auth.RoleAdmin)
		bo := createAdmin(t, s, "bo@example.com", auth.RoleAdmin)
		if _, err := auth.New(s).SetAdminRole(ctx, ana.ID, auth.RoleViewer, ana.ID); !errors.Is(err, auth.ErrOwnAccount) {
			t.Fatalf("own role: got %v, want ErrOwnAccount", err)
		}
		if _, err := auth.New(s).RemoveAdmin(ctx, ana.ID, ana.ID); !errors.Is(err, auth.ErrOwnAccount) {
			t.Fatalf("remove self: got %v, want ErrOwnAccount", err)
		}
		before, err := auth.New(s).SetAdminRole(ctx, bo.ID, auth.RoleViewer, ana.ID)
		if err != nil || before.Role != auth.RoleAdmin {
			t.Fatalf("demote bo: got %+v, %v", before, err)
		}
		// Ana is now the only admin: bo (a viewer) could not act, but even a
		// request on bo's behalf may not demote or remove her.
		if _, err := auth.New(s).SetAdminRole(ctx, ana.ID, auth.RoleViewer, bo.ID); !errors.Is(err, auth.ErrLastAdmin) {
			t.Fatalf("demote the last admin: got %v, want ErrLastAdmin", err)
		}
		if _, err := auth.New(s).RemoveAdmin(ctx, ana.ID, bo.ID); !errors.Is(err, auth.ErrLastAdmin) {
			t.Fatalf("remove the last admin: got %v, want ErrLastAdmin", err)
		}
		if _, err := auth.New(s).SetAdminRole(ctx, bo.ID, "owner", ana.ID); !errors.Is(err, auth.ErrInvalidRole) {
			t.Fatalf("bad role: got %v, want ErrInvalidRole", err)
		}
		if _, err := auth.New(s).RemoveAdmin(ctx, 9999, ana.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown: got %v, want ErrNotFound", err)
		}
		// Bo signed in; removing him ends his sessions with the account.
		tok, _, err := auth.New(s).CreateSession(ctx, bo.ID, auth.SessionClient{}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if removed, err := auth.New(s).RemoveAdmin(ctx, bo.ID, ana.ID); err != nil || removed.Email != bo.Email {
			t.Fatalf("remove bo: got %+v, %v", removed, err)
		}
		if _, err := auth.New(s).SessionByToken(ctx, tok); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("bo's session after removal: got %v, want ErrNotFound", err)
		}
		if n, _ := auth.New(s).AdminCount(ctx); n != 1 {
			t.Errorf("got %d admins, want 1", n)
		}
	})
}
