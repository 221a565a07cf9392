package handlers_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
)

// reconApp is an app whose Smile is the fake API, with one user Smile and we
// disagree about, and one widget claim no webhook confirmed.
type reconApp struct {
	*testApp
	userID, accountID string
	token             string
}

func newReconApp(t *testing.T, mutate ...func(*handlers.Deps)) reconApp {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	api := fakeapi.New(fakeapi.Options{})
	client, err := smile.NewClient(smile.ClientConfig{BaseURL: "http://fake.smile.invalid/v1", APIKey: "k", APISecret: "s",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(api)}, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, append([]func(*handlers.Deps){func(d *handlers.Deps) {
		d.Recon = handlers.ReconDeps{Smile: client}
		d.Now = func() time.Time { return now }
	}}, mutate...)...)
	u, _, err := client.CreateUser(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := api.AddAccount(u.ID, "examplepayroll_ph", "CONNECTED", nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.store.CreateLink(ctx, models.NewLink{ExternalRef: "crm-1", CreatedBy: "test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if l, err = a.store.AttachSmileUser(ctx, l.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"userId": u.ID, "accountId": acc.ID, "providers": []string{"examplepayroll_ph"}}
	for _, ev := range []struct {
		id, typ string
		at      time.Time
	}{{"et-r1", "ACCOUNT_CREATED", now.Add(-time.Hour)}, {"et-r2", "ACCOUNT_FAILED", now.Add(-59 * time.Minute)},
		{"et-r0", "INCOMES_ADDED", now.Add(-10 * 24 * time.Hour)}} {
		if got := a.do(t, signed(pageBody(ev.id, ev.typ, ev.at, data))); got.status != http.StatusOK {
			t.Fatalf("webhook: %d %s", got.status, got.body)
		}
	}
	err = a.store.CreateCallback(ctx, &models.Callback{ReceivedAt: now.Add(-30 * time.Minute), UserKey: l.UserKey,
		Name: string(smile.OnAccountConnected), AccountID: "a-claimed", Args: json.RawMessage(`{"accountId":"a-claimed"}`)})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := a.auth.CreateAPIToken(ctx, auth.NewAPIToken{Name: "recon", Role: handlers.RoleViewer}, now)
	if err != nil {
		t.Fatal(err)
	}
	return reconApp{testApp: a, userID: u.ID, accountID: acc.ID, token: plain}
}

func (r reconApp) api(t *testing.T, path string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	return r.do(t, req)
}

func TestReconAPI(t *testing.T) {
	r := newReconApp(t)
	for _, tc := range []struct {
		path       string
		wantStatus int
		want       string
	}{
		{"/api/v1/gaps", 200, `"kind":"account_connected","status":"open","userId":"` + r.userID + `","accountId":"a-claimed"`},
		{"/api/v1/gaps", 200, `"counts":{"open":1,"waiting":0,"closed":0,"openByKind":{"account_connected":1}}`},
		{"/api/v1/gaps?status=waiting", 200, `"items":[]`},
		{"/api/v1/gaps?kind=account_connected&user=" + url.QueryEscape(r.userID), 200, `"a-claimed"`},
		{"/api/v1/gaps?status=bogus", 400, `error`},
		{"/api/v1/gaps?cursor=zz", 400, `error`},
		{"/api/v1/accounts/" + r.accountID + "/lifecycle", 200, `"state":"ERROR","eventId":"et-r2"`},
		{"/api/v1/accounts/" + r.accountID + "/lifecycle", 200, `"until":"2026-03-02T11:01:00Z","seconds":60}`},
		{"/api/v1/accounts/a-nope/lifecycle", 404, `error`},
		{"/api/v1/stale", 200, `"staleAfterSeconds":604800`},
		{"/api/v1/stale", 200, `"stale":[{"accountId":"` + r.accountID + `"`},
	} {
		got := r.api(t, tc.path)
		if got.status != tc.wantStatus || !strings.Contains(got.body, tc.want) {
			t.Errorf("%s: got %d %.400s, want %d with %s", tc.path, got.status, got.body, tc.wantStatus, tc.want)
		}
	}
}

func TestAttentionPage(t *testing.T) {
	r := newReconApp(t)
	viewer := r.signIn(t, handlers.RoleViewer)
	got := viewer.get(t, "/admin/attention")
	for _, want := range []string{`data-testid="attention-page"`, `data-testid="gap-row"`, `a-claimed`, `data-testid="nav-attention"`, `aria-current="page"`} {
		if got.status != 200 || !strings.Contains(got.body, want) {
			t.Errorf("got %d, want 200 with %s", got.status, want)
		}
	}
	if got := viewer.get(t, "/admin/attention?kind=nonsense"); got.status != http.StatusBadRequest {
		t.Errorf("unknown kind: got %d, want 400", got.status)
	}
	if got := viewer.get(t, "/admin/attention?status=waiting"); !strings.Contains(got.body, `data-testid="gaps-empty"`) {
		t.Errorf("waiting: want the empty state")
	}
}

// TestOverview_OpenGapsFromTheStore: the overview counts the open gap by kind and its links open the
// attention page filtered to that kind.
func TestOverview_OpenGapsFromTheStore(t *testing.T) {
	r := newReconApp(t)
	viewer := r.signIn(t, handlers.RoleViewer)
	body := viewer.get(t, "/admin").body
	link := "/admin/attention?kind=account_connected&status=open#gaps"
	for _, want := range []string{`data-testid="open-gaps"`, `data-testid="gap-count"`, `href="` + html.EscapeString(link) + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	if strings.Contains(body, "kind="+models.GapAccountRemoved) {
		t.Error("a gap kind with no open gap must not be listed")
	}
	got := viewer.get(t, link)
	if got.status != http.StatusOK || !strings.Contains(got.body, "a-claimed") {
		t.Errorf("%s: got %d, want 200 listing the claim", link, got.status)
	}
	if got := viewer.get(t, "/admin/attention?status=open#gaps"); got.status != http.StatusOK {
		t.Errorf("total link: got %d, want 200", got.status)
	}
}

func TestCheckWithSmile_FromTheUserPage(t *testing.T) {
	r := newReconApp(t)
	admin, viewer := r.signIn(t, handlers.RoleAdmin), r.signIn(t, handlers.RoleViewer)
	page := "/admin/users/" + url.PathEscape(r.userID)
	if got := viewer.get(t, page); strings.Contains(got.body, `data-testid="check-form"`) || !strings.Contains(got.body, `data-testid="lifecycle"`) ||
		!strings.Contains(got.body, `data-testid="account-stale"`) {
		t.Errorf("viewer: want the lifecycle flagged stale and no check button")
	}
	if got := viewer.postForm(t, page+"/check", url.Values{}); got.status != http.StatusForbidden {
		t.Errorf("viewer check: got %d, want 403", got.status)
	}
	noCSRF := *admin
	noCSRF.csrf = ""
	if got := noCSRF.postForm(t, page+"/check", url.Values{}); got.status != http.StatusForbidden {
		t.Errorf("check without CSRF: got %d, want 403", got.status)
	}
	if got := admin.get(t, page); !strings.Contains(got.body, `data-testid="check-form"`) || !strings.Contains(got.body, `data-testid="user-gaps"`) {
		t.Errorf("admin: want the check button and the user's gaps")
	}
	if got := admin.postForm(t, page+"/check", url.Values{}); got.status != http.StatusSeeOther {
		t.Fatalf("check: got %d %.300s, want 303", got.status, got.body)
	}
	got := admin.get(t, page)
	for _, want := range []string{`data-testid="check-differs"`, `data-testid="check-differs-mark"`, "CONNECTED", models.ActionSmileChecked} {
		if !strings.Contains(got.body, want) {
			t.Errorf("after the check: want %s on the user page", want)
		}
	}
	if got := admin.postForm(t, "/admin/accounts/"+r.accountID+"/check", url.Values{}); got.status != http.StatusSeeOther {
		t.Errorf("account check: got %d, want 303", got.status)
	}
	if got := admin.postForm(t, "/admin/accounts/a-nope/check", url.Values{}); got.status != http.StatusNotFound {
		t.Errorf("unknown account check: got %d, want 404", got.status)
	}
}
