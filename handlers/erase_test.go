package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/smile"
)

func seedTwoUsers(t *testing.T, a *testApp) {
	t.Helper()
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i, user := range []string{"user-000", "user-001"} {
		body := pageBody("et-e-"+user, "ACCOUNT_CONNECTED", base.Add(time.Duration(i)*time.Minute),
			map[string]any{"userId": user, "accountId": "acc-" + user, "providers": []string{"prov"}, "loginName": "login-" + user})
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook: got %d %s", got.status, got.body)
		}
	}
}

// TestEraseUser_Page walks the erasure from the user page: viewers are
// refused, a wrong confirmation erases nothing, the right one erases the user
// (revoking at Smile first), leaves the other user and an audit entry
// without the id, and a second post finds nothing.
func TestEraseUser_Page(t *testing.T) {
	client, _ := smileRegistrar(t)
	a := newTestApp(t, func(d *handlers.Deps) { d.Connect.Smile = client })
	seedTwoUsers(t, a)
	admin, viewer := a.signIn(t, handlers.RoleAdmin), a.signIn(t, handlers.RoleViewer)
	const page = "/admin/users/user-000/erase"

	if got := viewer.get(t, "/admin/users/user-000"); got.status != http.StatusOK || strings.Contains(got.body, "erase-user-link") {
		t.Errorf("viewer's user page: got %d, erase link shown %v; want 200 without it", got.status, strings.Contains(got.body, "erase-user-link"))
	}
	if got := viewer.get(t, page); got.status != http.StatusForbidden {
		t.Errorf("viewer GET %s: got %d, want 403", page, got.status)
	}
	if got := viewer.postForm(t, page, url.Values{"confirm_id": {"user-000"}}); got.status != http.StatusForbidden {
		t.Errorf("viewer POST %s: got %d, want 403", page, got.status)
	}
	if got := admin.get(t, "/admin/users/user-000"); !strings.Contains(got.body, `href="/admin/users/user-000/erase"`) {
		t.Errorf("admin's user page has no erase link")
	}
	if got := admin.get(t, page); got.status != http.StatusOK || !strings.Contains(got.body, `data-testid="erase-form"`) ||
		!strings.Contains(got.body, `data-testid="erase-revoke"`) {
		t.Errorf("admin GET %s: got %d, want the form with the revoke choice; body %.400s", page, got.status, got.body)
	}
	if got := admin.get(t, "/admin/users/nobody/erase"); got.status != http.StatusNotFound {
		t.Errorf("unknown user: got %d, want 404", got.status)
	}

	for _, typed := range []string{"", "user-00", "USER-000", "user-001", " user-000"} {
		got := admin.postForm(t, page, url.Values{"confirm_id": {typed}})
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, `data-testid="error-confirm_id"`) {
			t.Errorf("confirmation %q: got %d, want 422 with the field error", typed, got.status)
		}
	}
	if got := admin.get(t, "/admin/users/user-000"); got.status != http.StatusOK {
		t.Fatalf("a refused confirmation erased the user: GET got %d", got.status)
	}

	got := admin.postForm(t, page, url.Values{"confirm_id": {"user-000"}, "revoke_at_smile": {"yes"}})
	if got.status != http.StatusOK || !strings.Contains(got.body, ingest.ErasureKey("user-000")) ||
		!strings.Contains(got.body, `data-testid="erased-revoked"`) {
		t.Fatalf("erase: got %d, want 200 naming the audit key and the revocation; body %.600s", got.status, got.body)
	}
	if strings.Contains(got.body, "user-000") {
		t.Error("the result page shows the erased id")
	}
	if got := admin.get(t, "/admin/users/user-000"); got.status != http.StatusNotFound {
		t.Errorf("erased user's page: got %d, want 404", got.status)
	}
	if got := admin.get(t, "/admin/users/user-001"); got.status != http.StatusOK || !strings.Contains(got.body, "login-user-001") {
		t.Errorf("other user's page: got %d, want 200 with their account", got.status)
	}
	audits, err := a.store.AuditLog(context.Background(), models.AuditQuery{Action: models.AuditUserErased})
	if err != nil || len(audits.Entries) != 1 {
		t.Fatalf("audits %v, %v; want one", audits, err)
	}
	if au := audits.Entries[0]; au.Actor != admin.admin.Email || au.ActorAdminID == nil || *au.ActorAdminID != admin.admin.ID ||
		strings.Contains(au.Target+au.Details, "user-000") {
		t.Errorf("audit entry %+v: want the admin as actor and no user id", au)
	}
	if got := admin.get(t, "/admin/audit?action="+models.AuditUserErased); got.status != http.StatusOK ||
		!strings.Contains(got.body, ingest.ErasureKey("user-000")) {
		t.Errorf("audit page filtered by erasures: got %d without the entry", got.status)
	}
	if got := admin.postForm(t, page, url.Values{"confirm_id": {"user-000"}}); got.status != http.StatusNotFound {
		t.Errorf("erasing again: got %d, want 404", got.status)
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"code":"SERVICE_UNAVAILABLE","message":"down"}`))}, nil
}

// TestEraseUser_SmileRefuses checks that when Smile does not revoke the
// accounts, the page answers 502 and nothing is erased.
func TestEraseUser_SmileRefuses(t *testing.T) {
	client, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "key", APISecret: "secret",
		HTTPClient: &http.Client{Transport: failingTransport{}}, RequestsPerSecond: -1, MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, func(d *handlers.Deps) { d.Connect.Smile = client })
	seedTwoUsers(t, a)
	admin := a.signIn(t, handlers.RoleAdmin)
	got := admin.postForm(t, "/admin/users/user-000/erase", url.Values{"confirm_id": {"user-000"}, "revoke_at_smile": {"yes"}})
	if got.status != http.StatusBadGateway || !strings.Contains(got.body, "nothing was erased") {
		t.Errorf("got %d, want 502 saying nothing was erased; body %.300s", got.status, got.body)
	}
	if got := admin.get(t, "/admin/users/user-000"); got.status != http.StatusOK {
		t.Errorf("user page after a refused revocation: got %d, want 200", got.status)
	}
}
