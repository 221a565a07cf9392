package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"smiledash/handlers"
	"smiledash/models"
)

func countLinks(t *testing.T, a *connectApp) int {
	t.Helper()
	links, err := a.store.Links(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(links)
}

func TestLinksPage_CreateListRevoke(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	s := a.signIn(t, handlers.RoleAdmin)

	resp := s.get(t, "/admin/links")
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `data-testid="links-empty"`) || !strings.Contains(resp.body, `data-testid="link-form"`) {
		t.Fatalf("empty page: got %d %.300s", resp.status, resp.body)
	}
	resp = s.postForm(t, "/admin/links", url.Values{"external_ref": {"crm-100"}, "label": {"Ana Cruz"}, "expires": {"72h"}})
	if resp.status != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/admin/links?created=") {
		t.Fatalf("create: got %d, Location %q, want 303 to the list", resp.status, resp.header.Get("Location"))
	}
	resp = s.get(t, resp.header.Get("Location"))
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(resp.body))
	created, _ := doc.Find("[data-testid=link-created-url]").Attr("value")
	links, _ := a.store.Links(context.Background(), 0, 10)
	if len(links) != 1 || created != testPublicURL+"/connect/"+links[0].Code {
		t.Fatalf("got created URL %q for %d links, want the new link's URL", created, len(links))
	}
	l := links[0]
	if l.ExternalRef != "crm-100" || l.Label != "Ana Cruz" || l.ExpiresAt == nil || l.CreatedBy != s.admin.Email {
		t.Errorf("got %+v", l)
	}
	if row := doc.Find("[data-testid=link-row]"); row.Length() != 1 || row.Find("[data-testid=link-state]").Text() != "active" {
		t.Errorf("want one active row, got %d", row.Length())
	}

	resp = s.postForm(t, "/admin/links/"+itoa(l.ID)+"/revoke", url.Values{})
	if resp.status != http.StatusSeeOther {
		t.Fatalf("revoke: got %d, want 303", resp.status)
	}
	doc, _ = goquery.NewDocumentFromReader(strings.NewReader(s.get(t, "/admin/links").body))
	if got := doc.Find("[data-testid=link-state]").Text(); got != "revoked" {
		t.Errorf("got state %q after revoke", got)
	}
	if doc.Find("[data-testid=link-revoke]").Length() != 0 {
		t.Error("a revoked link keeps its revoke button")
	}
	if resp := s.postForm(t, "/admin/links/999999/revoke", url.Values{}); resp.status != http.StatusNotFound {
		t.Errorf("unknown link: got %d, want 404", resp.status)
	}
	if resp := s.postForm(t, "/admin/links/abc/revoke", url.Values{}); resp.status != http.StatusBadRequest {
		t.Errorf("bad id: got %d, want 400", resp.status)
	}
}

func TestLinksPage_InvalidFormRerenders(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	s := a.signIn(t, handlers.RoleAdmin)
	for _, tc := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no ref", url.Values{"external_ref": {"  "}}, "external_ref"},
		{"non-ascii ref", url.Values{"external_ref": {"José"}}, "external_ref"},
		{"long ref", url.Values{"external_ref": {strings.Repeat("r", 201)}}, "external_ref"},
		{"long label", url.Values{"external_ref": {"ok"}, "label": {strings.Repeat("l", 201)}}, "label"},
		{"bad expiry", url.Values{"external_ref": {"ok"}, "expires": {"soon"}}, "expires"},
		{"negative expiry", url.Values{"external_ref": {"ok"}, "expires": {"-5h"}}, "expires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.postForm(t, "/admin/links", tc.form)
			if resp.status != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", resp.status)
			}
			doc, _ := goquery.NewDocumentFromReader(strings.NewReader(resp.body))
			if doc.Find("[data-testid=error-"+tc.field+"]").Length() != 1 {
				t.Errorf("want a %s error on the form", tc.field)
			}
			if v, _ := doc.Find("#link-label").Attr("value"); v != tc.form.Get("label") {
				t.Errorf("label not kept: got %q", v)
			}
		})
	}
	if n := countLinks(t, a); n != 0 {
		t.Errorf("got %d links stored from invalid forms", n)
	}
}

func TestLinksPage_ViewerCannotManage(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	a.link(t, "crm-200", nil)
	s := a.signIn(t, handlers.RoleViewer)
	resp := s.get(t, "/admin/links")
	if resp.status != http.StatusOK || strings.Contains(resp.body, `data-testid="link-form"`) || strings.Contains(resp.body, `data-testid="link-revoke"`) {
		t.Errorf("viewer page: got %d, want the list without form or revoke buttons", resp.status)
	}
	if resp := s.postForm(t, "/admin/links", url.Values{"external_ref": {"x"}}); resp.status != http.StatusForbidden {
		t.Errorf("viewer create: got %d, want 403", resp.status)
	}
	if n := countLinks(t, a); n != 1 {
		t.Errorf("got %d links, want the viewer's create refused", n)
	}
}

func TestLinksAPI(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	adminToken, _ := createTestToken(t, a.testApp, handlers.RoleAdmin)
	viewerToken, _ := createTestToken(t, a.testApp, handlers.RoleViewer)
	api := func(method, path, token, body string) response {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return a.do(t, req)
	}
	resp := api(http.MethodPost, "/api/v1/links", adminToken, `{"external_ref":"crm-300","label":"Budi","expires_in":"24h"}`)
	if resp.status != http.StatusCreated {
		t.Fatalf("create: got %d %s", resp.status, resp.body)
	}
	var created struct {
		ID          int64  `json:"id"`
		URL         string `json:"url"`
		ExternalRef string `json:"external_ref"`
		State       string `json:"state"`
		ExpiresAt   string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(resp.body), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.URL, testPublicURL+"/connect/") || created.State != "active" || created.ExpiresAt == "" || created.ExternalRef != "crm-300" {
		t.Errorf("got %+v", created)
	}

	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"viewer may list", http.MethodGet, "/api/v1/links", viewerToken, "", http.StatusOK},
		{"viewer may not create", http.MethodPost, "/api/v1/links", viewerToken, `{"external_ref":"x"}`, http.StatusForbidden},
		{"no token", http.MethodPost, "/api/v1/links", "", `{"external_ref":"x"}`, http.StatusUnauthorized},
		{"invalid fields", http.MethodPost, "/api/v1/links", adminToken, `{"external_ref":"","expires_in":"later"}`, http.StatusUnprocessableEntity},
		{"malformed", http.MethodPost, "/api/v1/links", adminToken, `{"external_ref":`, http.StatusBadRequest},
		{"unknown field", http.MethodPost, "/api/v1/links", adminToken, `{"external_ref":"x","owner":"me"}`, http.StatusBadRequest},
		{"oversize", http.MethodPost, "/api/v1/links", adminToken, `{"external_ref":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge},
		{"bad before", http.MethodGet, "/api/v1/links?before=x", adminToken, "", http.StatusBadRequest},
		{"revoke unknown", http.MethodPost, "/api/v1/links/424242/revoke", adminToken, "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := api(tc.method, tc.path, tc.token, tc.body); resp.status != tc.want {
				t.Errorf("got %d %s, want %d", resp.status, resp.body, tc.want)
			}
		})
	}
	if n := countLinks(t, a); n != 1 {
		t.Errorf("got %d links, want only the valid create stored", n)
	}

	resp = api(http.MethodPost, "/api/v1/links/"+itoa(created.ID)+"/revoke", adminToken, "")
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `"state":"revoked"`) {
		t.Errorf("revoke: got %d %s", resp.status, resp.body)
	}
	resp = api(http.MethodGet, "/api/v1/links", adminToken, "")
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(resp.body), &list); err != nil || len(list.Items) != 1 {
		t.Errorf("list: got %s (err %v)", resp.body, err)
	}
	var kinds []string
	if err := a.store.DB().Model(&models.Action{}).Where("link_id = ?", created.ID).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if strings.Join(kinds, ",") != "link_created,link_revoked" {
		t.Errorf("got actions %v", kinds)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
