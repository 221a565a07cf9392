package views_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"smiledash/views"
)

func renderAuthDoc(t *testing.T, ctx context.Context, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestLoginPage(t *testing.T) {
	t.Parallel()
	doc := renderAuthDoc(t, context.Background(), views.LoginPage(views.LoginPageVM{BaseVM: views.BaseVM{Title: "Sign in"}}))
	form := doc.Find(`[data-testid="login-form"]`)
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/login" {
		t.Fatalf("got form method %q action %q, want post to /login", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	email := doc.Find(`[data-testid="login-email"]`)
	if email.AttrOr("name", "") != "email" || email.AttrOr("type", "") != "email" || email.AttrOr("autocomplete", "") != "username" {
		t.Errorf("got email input %v, want name=email type=email autocomplete=username", email.Nodes)
	}
	if _, ok := email.Attr("autofocus"); !ok {
		t.Error("an empty form focuses the email field, want autofocus")
	}
	password := doc.Find(`[data-testid="login-password"]`)
	if password.AttrOr("name", "") != "password" || password.AttrOr("type", "") != "password" || password.AttrOr("autocomplete", "") != "current-password" {
		t.Errorf("got password input %v, want name=password type=password", password.Nodes)
	}
	for _, id := range []string{"login-error", "login-next", "sandbox-hint"} {
		if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 0 {
			t.Errorf("got %d %s, want none on a fresh form", n, id)
		}
	}
	if doc.Find(`label[for="login-email"]`).Length() != 1 || doc.Find(`label[for="login-password"]`).Length() != 1 {
		t.Error("want a label for each field")
	}
}

func TestLoginPage_Failed(t *testing.T) {
	t.Parallel()
	hostile := `"><script>alert(1)</script>`
	doc := renderAuthDoc(t, context.Background(), views.LoginPage(views.LoginPageVM{
		Email: hostile, Next: "/admin/users?q=" + hostile, Error: "The email or password is incorrect.", Sandbox: true,
	}))
	if got := doc.Find(`[data-testid="login-error"]`).Text(); got != "The email or password is incorrect." {
		t.Errorf("got error %q, want the message", got)
	}
	if got := doc.Find(`[data-testid="login-email"]`).AttrOr("value", ""); got != hostile {
		t.Errorf("got email value %q, want it kept as text", got)
	}
	if got := doc.Find(`[data-testid="login-next"]`).AttrOr("value", ""); got != "/admin/users?q="+hostile {
		t.Errorf("got next %q", got)
	}
	if doc.Find("script").Length() != 0 {
		t.Error("a hostile email became a script element, want it escaped")
	}
	if _, ok := doc.Find(`[data-testid="login-password"]`).Attr("autofocus"); !ok {
		t.Error("after a failure the password field should have focus")
	}
	if doc.Find(`[data-testid="sandbox-hint"]`).Length() != 1 {
		t.Error("want the sandbox hint in sandbox mode")
	}
}

func TestAdminLayout(t *testing.T) {
	t.Parallel()
	vm := views.LayoutVM{
		BaseVM: views.BaseVM{Title: "Users"}, AdminEmail: "alice@example.com", Role: "viewer",
		CSRFToken: "tok-123", Active: "users", Sandbox: true, Scripts: []string{"/static/js/htmx.min.js?v=1"},
	}
	doc := renderAuthDoc(t, context.Background(), views.AdminLayout(vm))
	var headers map[string]string
	if err := json.Unmarshal([]byte(doc.Find(`[data-testid="admin-shell"]`).AttrOr("hx-headers", "")), &headers); err != nil || headers["X-CSRF-Token"] != "tok-123" {
		t.Errorf("got hx-headers %v (%v), want the CSRF token for every htmx request", headers, err)
	}
	if got := doc.Find(`[data-testid="logout-form"] input[name="_csrf"]`).AttrOr("value", ""); got != "tok-123" {
		t.Errorf("got sign-out _csrf %q, want tok-123", got)
	}
	if got := doc.Find(`[data-testid="nav-users"]`).AttrOr("aria-current", ""); got != "page" {
		t.Errorf("got aria-current %q on the active item, want page", got)
	}
	if doc.Find(`[aria-current]`).Length() != 1 {
		t.Error("want exactly one current nav item")
	}
	for _, id := range []string{"signed-in-as", "sandbox-badge", "role-badge", "theme-toggle", "topbar"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("want one %s", id)
		}
	}
	if doc.Find(`a.skip[href="#main"]`).Length() != 1 || doc.Find(`main#main`).Length() != 1 {
		t.Error("want a skip link to main content")
	}
	if doc.Find(`script[src="/static/js/htmx.min.js?v=1"]`).Length() != 1 {
		t.Error("want the page scripts")
	}

	signedOut := renderAuthDoc(t, context.Background(), views.AdminLayout(views.LayoutVM{Active: "users"}))
	if _, ok := signedOut.Find(`[data-testid="admin-shell"]`).Attr("hx-headers"); ok || signedOut.Find(`[data-testid="logout-form"]`).Length() != 0 {
		t.Error("without a session, want neither hx-headers nor a sign-out form")
	}
}

func TestCSRFField(t *testing.T) {
	t.Parallel()
	ctx := views.WithSignedIn(context.Background(), views.SignedIn{Email: "a@example.com", Role: "admin", CSRFToken: "tok-9"})
	doc := renderAuthDoc(t, ctx, views.CSRFField())
	if got := doc.Find(`input[type="hidden"][name="_csrf"]`).AttrOr("value", ""); got != "tok-9" {
		t.Fatalf("got %q, want tok-9", got)
	}
	if !views.CanChange(ctx) || views.CanChange(views.WithSignedIn(ctx, views.SignedIn{Role: "viewer"})) || views.CanChange(context.Background()) {
		t.Error("CanChange: want true only for admins")
	}
}
