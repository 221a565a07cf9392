package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
)

// auditActions returns the actions recorded so far, oldest first.
func auditActions(t *testing.T, a *testApp) []models.AuditEntry {
	t.Helper()
	page, err := a.store.AuditLog(context.Background(), models.AuditQuery{Limit: models.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]models.AuditEntry, 0, len(page.Entries))
	for i := len(page.Entries) - 1; i >= 0; i-- {
		out = append(out, page.Entries[i])
	}
	return out
}

func hasAudit(entries []models.AuditEntry, action, targetPart, actor string) bool {
	for _, e := range entries {
		if e.Action == action && strings.Contains(e.Target, targetPart) && e.Actor == actor {
			return true
		}
	}
	return false
}

// TestAccessPages_ViewersRefused checks the admins, tokens and audit pages and
// their actions are for the admin role only.
func TestAccessPages_ViewersRefused(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	admin := a.signIn(t, handlers.RoleAdmin)
	viewer := a.signIn(t, handlers.RoleViewer)
	for _, path := range []string{"/admin/admins", "/admin/tokens", "/admin/audit"} {
		if got := viewer.get(t, path); got.status != http.StatusForbidden {
			t.Errorf("viewer GET %s: got %d, want 403", path, got.status)
		}
		if got := admin.get(t, path); got.status != http.StatusOK {
			t.Errorf("admin GET %s: got %d, want 200", path, got.status)
		}
	}
	for _, path := range []string{"/admin/admins", "/admin/tokens", "/admin/tokens/1/revoke",
		"/admin/admins/" + itoa(admin.admin.ID) + "/role", "/admin/admins/" + itoa(admin.admin.ID) + "/remove"} {
		if got := viewer.postForm(t, path, url.Values{"role": {"viewer"}, "email": {"x@example.com"}, "name": {"x"}}); got.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: got %d, want 403", path, got.status)
		}
	}
	if got, _ := a.auth.Admins(context.Background()); len(got) != 2 {
		t.Errorf("got %d admins after the viewer's attempts, want 2", len(got))
	}
	if nav := viewer.get(t, "/admin/users").body; strings.Contains(nav, `data-testid="nav-access"`) || strings.Contains(nav, `data-testid="nav-settings"`) {
		t.Error("a viewer's top bar links pages they are refused")
	}
	if nav := admin.get(t, "/admin/users").body; !strings.Contains(nav, `data-testid="nav-access"`) {
		t.Error("an admin's top bar has no link to the access pages")
	}
}

// TestAdmins_CreateChangeRemove walks an admin through adding an account with
// a generated password (which then signs in), demoting and removing it, and
// checks that they can neither demote nor remove themselves and that every
// step is in the audit log.
func TestAdmins_CreateChangeRemove(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	me := a.signIn(t, handlers.RoleAdmin)

	bad := me.postForm(t, "/admin/admins", url.Values{"email": {"not an email"}, "role": {"admin"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, `data-testid="error-email"`) {
		t.Fatalf("bad email: got %d, want 422 with the field error", bad.status)
	}
	weak := me.postForm(t, "/admin/admins", url.Values{"email": {"weak@example.com"}, "role": {"admin"}, "password": {"short"}})
	if weak.status != http.StatusUnprocessableEntity || !strings.Contains(weak.body, `data-testid="error-password"`) {
		t.Fatalf("weak password: got %d, want 422", weak.status)
	}

	created := me.postForm(t, "/admin/admins", url.Values{"email": {"New@Example.com"}, "role": {"admin"}})
	if created.status != http.StatusOK || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: got %d (Cache-Control %q), want 200 no-store", created.status, created.header.Get("Cache-Control"))
	}
	password, ok := parseHTML(t, created.body).Find("[data-testid=admin-created-password]").Attr("value")
	if !ok || len(password) < auth.MinPasswordLength {
		t.Fatalf("got generated password %q, want one shown", password)
	}
	if list := me.get(t, "/admin/admins"); strings.Contains(list.body, password) {
		t.Error("the password is shown again on the list")
	}
	login := a.do(t, formRequest("/login", url.Values{"email": {"new@example.com"}, "password": {password}}))
	if login.status != http.StatusSeeOther {
		t.Fatalf("sign in with the generated password: got %d, want 303", login.status)
	}
	newAdmin, err := a.auth.AdminByEmail(context.Background(), "new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := me.postForm(t, "/admin/admins", url.Values{"email": {"new@example.com"}, "role": {"viewer"}, "password": {"a long enough password"}}); got.status != http.StatusUnprocessableEntity {
		t.Errorf("taken email: got %d, want 422", got.status)
	}

	id := itoa(newAdmin.ID)
	if got := me.postForm(t, "/admin/admins/"+id+"/role", url.Values{"role": {"owner"}}); got.status != http.StatusUnprocessableEntity {
		t.Errorf("unknown role: got %d, want 422", got.status)
	}
	if got := me.postForm(t, "/admin/admins/"+id+"/role", url.Values{"role": {"viewer"}}); got.status != http.StatusSeeOther {
		t.Fatalf("demote: got %d, want 303", got.status)
	}
	mine := itoa(me.admin.ID)
	for _, path := range []string{"/admin/admins/" + mine + "/role", "/admin/admins/" + mine + "/remove"} {
		got := me.postForm(t, path, url.Values{"role": {"viewer"}})
		if got.status != http.StatusConflict || !strings.Contains(got.body, `data-testid="admins-problem"`) {
			t.Errorf("POST %s on myself: got %d, want 409 with the reason", path, got.status)
		}
	}
	if got := me.postForm(t, "/admin/admins/"+id+"/remove", url.Values{}); got.status != http.StatusSeeOther {
		t.Fatalf("remove: got %d, want 303", got.status)
	}
	if got := me.postForm(t, "/admin/admins/"+id+"/remove", url.Values{}); got.status != http.StatusNotFound {
		t.Errorf("remove again: got %d, want 404", got.status)
	}
	if a, _ := a.auth.AdminByID(context.Background(), me.admin.ID); a.Role != handlers.RoleAdmin {
		t.Errorf("got my role %q, want still admin", a.Role)
	}

	entries := auditActions(t, a)
	for _, want := range []struct{ action, target string }{
		{models.AuditSignIn, me.admin.Email},
		{models.AuditAdminCreated, "new@example.com"},
		{models.AuditAdminRole, "new@example.com"},
		{models.AuditAdminRemoved, "new@example.com"},
	} {
		if !hasAudit(entries, want.action, want.target, me.admin.Email) && !(want.action == models.AuditSignIn && hasAudit(entries, want.action, want.target, want.target)) {
			t.Errorf("no audit entry %s %s by %s in %+v", want.action, want.target, me.admin.Email, entries)
		}
	}
	for _, e := range entries {
		if strings.Contains(e.Details+e.Target+e.Actor, password) {
			t.Errorf("audit entry %+v holds the password", e)
		}
	}
	page := me.get(t, "/admin/audit?action="+models.AuditAdminRemoved)
	if page.status != http.StatusOK || strings.Count(page.body, `data-testid="audit-row"`) != 1 {
		t.Errorf("audit page filtered by removal: got %d with %d rows, want 200 with 1", page.status, strings.Count(page.body, `data-testid="audit-row"`))
	}
}

// TestTokens_ShownOnceWorkRevoke creates an API token on the page, checks it
// is shown only in that response, works for /api/v1 (and the list then shows
// it used), stops working once revoked, and that both steps are audited
// without the token itself.
func TestTokens_ShownOnceWorkRevoke(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	me := a.signIn(t, handlers.RoleAdmin)
	if got := me.postForm(t, "/admin/tokens", url.Values{"name": {"  "}, "role": {"viewer"}}); got.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: got %d, want 422", got.status)
	}
	created := me.postForm(t, "/admin/tokens", url.Values{"name": {"reporting"}, "role": {"viewer"}})
	token, _ := parseHTML(t, created.body).Find("[data-testid=token-created-value]").Attr("value")
	if created.status != http.StatusOK || !strings.HasPrefix(token, auth.APITokenPrefix) || created.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: got %d, token %q, Cache-Control %q; want 200, a token, no-store", created.status, token, created.header.Get("Cache-Control"))
	}
	if !strings.Contains(created.body, `data-testid="token-copy"`) {
		t.Error("no copy button next to the new token")
	}
	list := me.get(t, "/admin/tokens")
	if strings.Contains(list.body, token) || !strings.Contains(list.body, "reporting") {
		t.Fatal("the list shows the token again, or not its name")
	}
	if strings.Count(list.body, ">never<") != 1 {
		t.Errorf("want the unused token listed as never used")
	}

	api := func() int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return a.do(t, req).status
	}
	if got := api(); got != http.StatusOK {
		t.Fatalf("the new token on /api/v1/users: got %d, want 200", got)
	}
	if list := me.get(t, "/admin/tokens"); strings.Contains(list.body, ">never<") {
		t.Error("the used token is still listed as never used")
	}

	tokens, err := a.auth.APITokens(context.Background())
	if err != nil || len(tokens) != 1 || tokens[0].CreatedBy == nil || *tokens[0].CreatedBy != me.admin.ID {
		t.Fatalf("got %+v, %v; want one token made by me", tokens, err)
	}
	if got := me.postForm(t, "/admin/tokens/"+itoa(tokens[0].ID)+"/revoke", url.Values{}); got.status != http.StatusSeeOther {
		t.Fatalf("revoke: got %d, want 303", got.status)
	}
	if got := api(); got != http.StatusUnauthorized {
		t.Errorf("the revoked token: got %d, want 401", got)
	}
	if got := me.postForm(t, "/admin/tokens/999/revoke", url.Values{}); got.status != http.StatusNotFound {
		t.Errorf("unknown token: got %d, want 404", got.status)
	}

	entries := auditActions(t, a)
	if !hasAudit(entries, models.AuditTokenCreated, "reporting", me.admin.Email) || !hasAudit(entries, models.AuditTokenRevoked, itoa(tokens[0].ID), me.admin.Email) {
		t.Errorf("got audit %+v, want the token's creation and revocation by me", entries)
	}
	for _, e := range entries {
		if strings.Contains(e.Details+e.Target, token) || strings.Contains(e.Details+e.Target, tokens[0].Prefix) && e.Action != models.AuditTokenCreated {
			t.Errorf("audit entry %+v holds the token", e)
		}
	}
}

// TestAudit_SignInsAndLinks checks the hooked code paths: sign-ins, failed
// sign-ins (an unknown email is not recorded as typed) and links made and
// revoked on the page.
func TestAudit_SignInsAndLinks(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	me := a.signIn(t, handlers.RoleAdmin)
	a.do(t, formRequest("/login", url.Values{"email": {me.admin.Email}, "password": {"wrong password here"}}))
	a.do(t, formRequest("/login", url.Values{"email": {"stranger@example.org"}, "password": {"wrong password here"}}))
	if got := me.postForm(t, "/admin/links", url.Values{"external_ref": {"crm-1"}, "expires": {"72h"}}); got.status != http.StatusSeeOther {
		t.Fatalf("create link: got %d", got.status)
	}
	links, err := a.store.Links(context.Background(), 0, 10)
	if err != nil || len(links) != 1 {
		t.Fatalf("got %d links, %v", len(links), err)
	}
	if got := me.postForm(t, "/admin/links/"+itoa(links[0].ID)+"/revoke", url.Values{}); got.status != http.StatusSeeOther {
		t.Fatalf("revoke link: got %d", got.status)
	}
	plain, apiTok := createTestToken(t, a, handlers.RoleAdmin)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/links", strings.NewReader(`{"external_ref": "crm-2"}`))
	req.Header.Set("Authorization", "Bearer "+plain)
	req.Header.Set("Content-Type", "application/json")
	if got := a.do(t, req); got.status != http.StatusCreated {
		t.Fatalf("create link over the API: got %d %s", got.status, got.body)
	}
	entries := auditActions(t, a)
	if !hasAudit(entries, models.AuditLinkCreated, "link", "API token "+itoa(apiTok.ID)+" "+apiTok.Name) {
		t.Errorf("no audit entry for the link made with API token %d in %+v", apiTok.ID, entries)
	}
	want := []struct{ action, target, actor string }{
		{models.AuditSignIn, me.admin.Email, me.admin.Email},
		{models.AuditSignInFailed, me.admin.Email, ""},
		{models.AuditSignInFailed, "an unknown email", ""},
		{models.AuditLinkCreated, "link " + itoa(links[0].ID), me.admin.Email},
		{models.AuditLinkRevoked, "link " + itoa(links[0].ID), me.admin.Email},
	}
	for _, w := range want {
		if !hasAudit(entries, w.action, w.target, w.actor) {
			t.Errorf("no audit entry %s %q by %q in %+v", w.action, w.target, w.actor, entries)
		}
	}
	for _, e := range entries {
		if strings.Contains(e.Target+e.Details+e.Actor, "stranger") || strings.Contains(e.Target+e.Details, "crm-") {
			t.Errorf("audit entry %+v holds personal data", e)
		}
	}
}

func formRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
