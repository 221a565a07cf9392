package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"smiledash/handlers"
)

func parseHTML(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestStartPage checks / is a real page: signed-out people learn what this is
// and where to sign in, signed-in admins go to the dashboard, and the start
// link of every error page leads there.
func TestStartPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	got := a.do(t, httptest.NewRequest(http.MethodGet, "/", nil))
	if got.status != http.StatusOK {
		t.Fatalf("signed out: got %d, want 200", got.status)
	}
	doc := parseHTML(t, got.body)
	if href, _ := doc.Find("[data-testid=start-sign-in]").Attr("href"); href != "/login" {
		t.Errorf("got sign-in link %q, want /login", href)
	}
	if !strings.Contains(got.body, "/connect/") {
		t.Error("the start page does not tell link holders to open their link")
	}

	forged := httptest.NewRequest(http.MethodGet, "/", nil)
	forged.Header.Set("Cookie", sessionCookieName+"=forged")
	if got := a.do(t, forged); got.status != http.StatusOK {
		t.Errorf("forged session: got %d, want the start page", got.status)
	}

	s := a.signIn(t, handlers.RoleViewer)
	if got := s.get(t, "/"); got.status != http.StatusSeeOther || got.header.Get("Location") != "/admin" {
		t.Errorf("signed in: got %d to %q, want 303 to /admin", got.status, got.header.Get("Location"))
	}

	notFound := a.do(t, httptest.NewRequest(http.MethodGet, "/no/such/page", nil))
	href, _ := parseHTML(t, notFound.body).Find("[data-testid=error-start]").Attr("href")
	if notFound.status != http.StatusNotFound || href != "/" {
		t.Fatalf("404 page: got %d with start link %q, want 404 linking /", notFound.status, href)
	}
	if got := a.do(t, httptest.NewRequest(http.MethodGet, href, nil)); got.status != http.StatusOK {
		t.Errorf("the error page's start link: got %d, want 200", got.status)
	}
}

// TestConnectErrorPages_SayWhatToDo checks the pages someone holding a dead
// connect link sees tell them what to do next and do not send them to the
// team's start page.
func TestConnectErrorPages_SayWhatToDo(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	soon := time.Now().Add(time.Hour)
	expired := a.link(t, "crm-expired", &soon)
	revoked := a.link(t, "crm-revoked", nil)
	if _, err := a.store.RevokeLink(context.Background(), revoked.ID, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		app  *connectApp
		code string
		want int
	}{
		{"unknown", a, "no-such-code", http.StatusNotFound},
		{"expired", laterApp(t, a, 2*time.Hour), expired.Code, http.StatusGone},
		{"revoked", a, revoked.Code, http.StatusGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, doc := tc.app.open(t, tc.code)
			if resp.status != tc.want {
				t.Fatalf("got %d, want %d", resp.status, tc.want)
			}
			next := doc.Find("[data-testid=error-next]").Text()
			if !strings.Contains(next, "new one") {
				t.Errorf("got next step %q, want it to say to ask for a new link", next)
			}
			if doc.Find(`a[href="/"]`).Length() != 0 {
				t.Error("the page links the team's start page")
			}
		})
	}
}

// TestFavicon checks every kind of page links a favicon that is served, so no
// page logs a 404 for /favicon.ico.
func TestFavicon(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	s := a.signIn(t, handlers.RoleAdmin)
	pages := map[string]response{
		"start":      a.do(t, httptest.NewRequest(http.MethodGet, "/", nil)),
		"login":      a.do(t, httptest.NewRequest(http.MethodGet, "/login", nil)),
		"error":      a.do(t, httptest.NewRequest(http.MethodGet, "/nothing-here", nil)),
		"connect":    a.do(t, httptest.NewRequest(http.MethodGet, "/connect/unknown", nil)),
		"admin page": s.get(t, "/admin/users"),
	}
	for name, page := range pages {
		href, ok := parseHTML(t, page.body).Find(`head link[rel="icon"]`).Attr("href")
		if !ok {
			t.Errorf("%s: no icon link", name)
			continue
		}
		icon := a.do(t, httptest.NewRequest(http.MethodGet, href, nil))
		if icon.status != http.StatusOK || icon.header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(icon.body, "<svg") {
			t.Errorf("%s: icon %s: got %d %q, want 200 image/svg+xml", name, href, icon.status, icon.header.Get("Content-Type"))
		}
	}
}
