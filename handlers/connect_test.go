package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"smiledash/handlers"
	"smiledash/models"
)

func TestShowConnect_UnknownLink(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	for _, code := range []string{"doesnotexist0000000000000", strings.Repeat("x", 100), "%00"} {
		resp, _, doc := a.open(t, code)
		if resp.status != http.StatusNotFound {
			t.Errorf("%q: got %d, want 404", code, resp.status)
		}
		if code == "doesnotexist0000000000000" && !strings.Contains(doc.Find("[data-testid=error-message]").Text(), "does not exist") {
			t.Errorf("got %q, want a plain-words page", doc.Find("[data-testid=error-message]").Text())
		}
	}
	if n := a.api.Users(); n != 0 {
		t.Errorf("got %d Smile users, want none for unknown links", n)
	}
}

func TestShowConnect_ExpiredOrRevoked(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	past := time.Now().Add(time.Hour)
	expired := a.link(t, "crm-expired", &past)
	revoked := a.link(t, "crm-revoked", nil)
	if _, err := a.store.RevokeLink(context.Background(), revoked.ID, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		app  *connectApp
		code string
		want string
	}{
		{laterApp(t, a, 2*time.Hour), expired.Code, "expired"},
		{a, revoked.Code, "withdrawn"},
	} {
		resp, _, doc := tc.app.open(t, tc.code)
		if resp.status != http.StatusGone {
			t.Errorf("got %d, want 410", resp.status)
		}
		if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, tc.want) {
			t.Errorf("got %q, want it to say %q", msg, tc.want)
		}
	}
	if n := a.api.Users(); n != 0 {
		t.Errorf("got %d Smile users, want none for dead links", n)
	}
}

// laterApp is an app on a's store and fake Smile whose clock runs d ahead.
func laterApp(t *testing.T, a *connectApp, d time.Duration) *connectApp {
	t.Helper()
	deps := handlers.Deps{Stores: storesOf(a.store), Ingester: a.in, Now: func() time.Time { return time.Now().Add(d) }}
	deps.Connect = handlers.ConnectDeps{Smile: nil, PublicURL: testPublicURL}
	return &connectApp{testApp: &testApp{app: handlers.NewApp(deps), store: a.store, auth: a.auth, in: a.in, projected: a.projected}, api: a.api, sim: a.sim}
}

func TestShowConnect_FirstOpenCreatesUserAndSession(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-42", nil)
	resp, boot, doc := a.open(t, l.Code)
	if resp.status != http.StatusOK {
		t.Fatalf("got %d, want 200: %.300s", resp.status, resp.body)
	}
	if a.api.Users() != 1 {
		t.Fatalf("got %d Smile users, want 1", a.api.Users())
	}
	bound, _ := a.store.LinkByID(context.Background(), l.ID)
	u, ok := a.api.User(bound.SmileUserID)
	if !ok || u.ExternalMetadata["external_ref"] != "crm-42" {
		t.Errorf("Smile user %+v: want externalMetadata.external_ref = crm-42", u)
	}
	if userID, ok := a.api.TokenValid(boot.UserToken); !ok || userID != bound.SmileUserID {
		t.Errorf("boot token belongs to %q (valid %v), want the link's user %q", userID, ok, bound.SmileUserID)
	}
	if boot.TemplateID != "wtpl-test" || boot.Session == "" || boot.EventsURL != "/connect/"+l.Code+"/events" || boot.TokenURL != "/connect/"+l.Code+"/token" {
		t.Errorf("got boot %+v", boot)
	}
	if _, err := a.store.CheckWidgetSession(context.Background(), boot.Session, bound, time.Now()); err != nil {
		t.Errorf("page session: %v", err)
	}
	if kinds := strings.Join(a.actionKinds(t, l.ID), ","); kinds != "link_created,link_opened" {
		t.Errorf("got actions %s, want link_created,link_opened", kinds)
	}
	if bound.OpenCount != 1 {
		t.Errorf("got open count %d, want 1", bound.OpenCount)
	}

	// The page: sandbox banner, the widget and our script, boot data with the nonce.
	if doc.Find("[data-testid=sandbox-banner]").Length() != 1 {
		t.Error("want the sandbox banner")
	}
	if got := resp.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q: the page holds a token, want no-store", got)
	}
	csp := resp.header.Get("Content-Security-Policy")
	nonce, _ := doc.Find("script#connect-boot").Attr("nonce")
	if nonce == "" || !strings.Contains(csp, "'nonce-"+nonce+"'") {
		t.Errorf("boot script nonce %q not in CSP %q", nonce, csp)
	}
	var srcs []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { srcs = append(srcs, s.AttrOr("src", "")) })
	if len(srcs) != 2 || !strings.HasPrefix(srcs[0], "/static/js/sandbox-widget.js?v=") || !strings.HasPrefix(srcs[1], "/static/js/connect.js?v=") {
		t.Errorf("got scripts %v, want the hashed sandbox widget then connect.js", srcs)
	}
	if doc.Find("script:not([src]):not([type='application/json'])").Length() != 0 {
		t.Error("want no inline executable script: boot data is JSON")
	}
}

func TestShowConnect_EveryOpenGetsAFreshToken(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-43", nil)
	_, first, _ := a.open(t, l.Code)
	_, second, _ := a.open(t, l.Code)
	if first.UserToken == "" || first.UserToken == second.UserToken || first.Session == second.Session {
		t.Errorf("want a new token and session on every open")
	}
	if a.api.Users() != 1 {
		t.Errorf("got %d Smile users, want the first open's user reused", a.api.Users())
	}
	bound, _ := a.store.LinkByID(context.Background(), l.ID)
	if bound.OpenCount != 2 {
		t.Errorf("got open count %d, want 2", bound.OpenCount)
	}
}

func TestShowConnect_SmileWidgetCSP(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t, func(d *handlers.Deps) {
		d.Connect.WidgetScriptURL = "https://web.smileapi.io/v2/smile.v2.js"
		d.Connect.Sandbox = nil
	})
	l := a.link(t, `crm-"quote"</script>`, nil)
	if err := a.store.DB().Model(&models.Link{}).Where("id = ?", l.ID).Update("label", `<img src=x onerror=alert(1)></script>`).Error; err != nil {
		t.Fatal(err)
	}
	resp, boot, doc := a.open(t, l.Code)
	if resp.status != http.StatusOK || boot.UserToken == "" {
		t.Fatalf("got %d, boot %+v", resp.status, boot)
	}
	csp := resp.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' 'nonce-", "https://web.smileapi.io", "frame-src 'self' https://web.smileapi.io", "connect-src 'self' https://web.smileapi.io"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src *") {
		t.Errorf("CSP %q is too open", csp)
	}
	if doc.Find(`script[src="https://web.smileapi.io/v2/smile.v2.js"]`).Length() != 1 {
		t.Error("want Smile's widget script")
	}
	if strings.Contains(resp.body, "<img src=x") || doc.Find("img").Length() != 0 {
		t.Error("the label reached the page unescaped")
	}
	if doc.Find("[data-testid=sandbox-banner]").Length() != 1 {
		t.Error("a SANDBOX-mode token must still show the (Smile sandbox) banner")
	}
}

func TestShowConnect_SmileForgotUser(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-44", nil)
	if _, err := a.store.AttachSmileUser(context.Background(), l.ID, "sandbox-gone"); err != nil {
		t.Fatal(err)
	}
	resp, _, _ := a.open(t, l.Code)
	if resp.status != http.StatusGone || !strings.Contains(resp.body, "new link") {
		t.Errorf("got %d %.200s, want 410 asking for a new link", resp.status, resp.body)
	}
}

func TestShowConnect_ThrottlesALinkThatAsksForTooManyTokens(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-reloader", nil)
	for i := range 30 {
		if resp, _, _ := a.open(t, l.Code); resp.status != http.StatusOK {
			t.Fatalf("open %d: got %d, want 200", i+1, resp.status)
		}
	}
	resp, boot, _ := a.open(t, l.Code)
	if resp.status != http.StatusTooManyRequests || boot.UserToken != "" || resp.header.Get("Retry-After") == "" {
		t.Fatalf("31st open: got %d (token %q, Retry-After %q), want 429 without a token", resp.status, boot.UserToken, resp.header.Get("Retry-After"))
	}
	if !strings.Contains(resp.body, "wait a few minutes") {
		t.Errorf("got body %.200s, want it to say when to come back", resp.body)
	}
	other := a.link(t, "crm-other", nil)
	if resp, _, _ := a.open(t, other.Code); resp.status != http.StatusOK {
		t.Errorf("another link: got %d, want 200: the limit is per link", resp.status)
	}
}
