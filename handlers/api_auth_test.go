package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models/auth"
)

// apiProbe is a path under /api/v1 that nothing serves: a request with a valid
// token passes and gets 404, one without is refused before that.
const apiProbe = "/api/v1/__auth_probe"

func createTestToken(t *testing.T, a *testApp, role string) (string, auth.APIToken) {
	t.Helper()
	plain, tok, err := a.auth.CreateAPIToken(context.Background(), auth.NewAPIToken{Name: "test " + role, Role: role}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return plain, tok
}

func TestRequireAPIToken(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	viewer, _ := createTestToken(t, a, handlers.RoleViewer)
	admin, _ := createTestToken(t, a, handlers.RoleAdmin)
	revoked, revokedTok := createTestToken(t, a, handlers.RoleAdmin)
	if err := a.auth.RevokeAPIToken(context.Background(), revokedTok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	session := a.signIn(t, handlers.RoleAdmin)

	tests := []struct {
		name          string
		method        string
		authorization string
		cookie        bool
		wantStatus    int
	}{
		{"no header", "GET", "", false, 401},
		{"not bearer", "GET", "Basic " + viewer, false, 401},
		{"empty bearer", "GET", "Bearer ", false, 401},
		{"unknown token", "GET", "Bearer sdk_unknown", false, 401},
		{"revoked token", "GET", "Bearer " + revoked, false, 401},
		{"session cookie is not a token", "GET", "", true, 401},
		{"viewer reads", "GET", "Bearer " + viewer, false, 404},
		{"scheme in any case", "GET", "bearer " + viewer, false, 404},
		{"viewer writes", "POST", "Bearer " + viewer, false, 403},
		{"viewer deletes", "DELETE", "Bearer " + viewer, false, 403},
		{"admin writes", "POST", "Bearer " + admin, false, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, apiProbe, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			if tc.cookie {
				req.AddCookie(session.cookies[0])
				req.Header.Set("X-CSRF-Token", session.csrf)
			}
			resp := a.do(t, req)
			if resp.status != tc.wantStatus {
				t.Fatalf("got %d, want %d; body %.200s", resp.status, tc.wantStatus, resp.body)
			}
			if !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") || !strings.Contains(resp.body, `"error"`) {
				t.Errorf("got %q %.200s, want a JSON error", resp.header.Get("Content-Type"), resp.body)
			}
			if tc.wantStatus == 401 && !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", resp.header.Get("WWW-Authenticate"))
			}
			if strings.Contains(resp.body, viewer) || strings.Contains(resp.body, admin) {
				t.Error("the response echoes a token")
			}
		})
	}
}

func TestRequireAPIToken_RecordsUse(t *testing.T) {
	t.Parallel()
	clock := newAuthClock()
	a := newTestApp(t, withClock(clock))
	plain, tok := createTestToken(t, a, handlers.RoleViewer)
	req := httptest.NewRequest(http.MethodGet, apiProbe, nil)
	req.Header.Set("Authorization", "Bearer "+plain)
	a.do(t, req)
	list, err := a.auth.APITokens(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != tok.ID || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(clock.Now()) {
		t.Fatalf("got %+v, %v; want last used at %v", list, err, clock.Now())
	}
}
