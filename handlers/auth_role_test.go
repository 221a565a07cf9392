package handlers

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models/auth"
	"smiledash/static"
)

func TestRequireRole(t *testing.T) {
	t.Parallel()
	h := &Handler{log: slog.New(slog.DiscardHandler), now: time.Now}
	app := fiber.New(fiber.Config{ErrorHandler: h.errorHandler})
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	as := func(c *fiber.Ctx) error {
		if role := c.Query("as"); role != "" {
			c.Locals(localRole, role)
		}
		return c.Next()
	}
	app.Get("/admin-only", as, h.requireRole(RoleAdmin), ok)
	app.Get("/any-role", as, h.requireRole(RoleViewer), ok)
	tests := []struct {
		path, as   string
		wantStatus int
	}{
		{"/admin-only", RoleAdmin, 200},
		{"/admin-only", RoleViewer, 403},
		{"/admin-only", "", 403},
		{"/admin-only", "root", 403},
		{"/any-role", RoleAdmin, 200},
		{"/any-role", RoleViewer, 200},
		{"/any-role", "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.path+" as "+tc.as, func(t *testing.T) {
			resp, err := app.Test(httptest.NewRequest("GET", tc.path+"?as="+tc.as, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.wantStatus)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{log: slog.New(slog.DiscardHandler), now: time.Now, deps: Deps{Assets: assets, Admin: AdminDeps{Sandbox: true}}}
	app := fiber.New()
	in := auth.SignedIn{
		Admin:   auth.Admin{ID: 7, Email: "alice@example.com", Role: RoleViewer},
		Session: auth.AdminSession{CSRFToken: "csrf-token-1"},
	}
	app.Get("/", func(c *fiber.Ctx) error {
		c.Locals(localSignedIn, in)
		vm := h.layout(c, "Users", "users")
		got := strings.Join([]string{vm.Title, vm.Active, vm.AdminEmail, vm.Role, vm.CSRFToken, strings.Join(vm.Scripts, " ")}, "|")
		if vm.Sandbox {
			got += "|sandbox"
		}
		return c.SendString(got)
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	got := string(b)
	for _, want := range []string{"Users|users|alice@example.com|viewer|csrf-token-1|", "/static/js/htmx.min.js?v=", "/static/js/theme.js?v=", "|sandbox"} {
		if !strings.Contains(got, want) {
			t.Errorf("got %q, want it to contain %q", got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"":                       "",
		"/admin":                 "/admin",
		"/admin/users?q=x&y=1":   "/admin/users?q=x&y=1",
		"/admin?tab=1":           "/admin?tab=1",
		"/admin/events/ev_1#raw": "/admin/events/ev_1#raw",
		"/administrator":         "",
		"/admin//evil.example":   "",
		"/admin/../login":        "",
		"//evil.example/admin":   "",
		"https://evil.example":   "",
		"/admin\\x":              "",
		"/admin\n":               "",
		"/login":                 "",
		"admin":                  "",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q): got %q, want %q", next, got, want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"Bearer sdk_abc":   "sdk_abc",
		"bearer  sdk_abc ": "sdk_abc",
		"BEARER sdk_abc":   "sdk_abc",
		"Bearer":           "",
		"Bearer ":          "",
		"Basic sdk_abc":    "",
		"sdk_abc":          "",
		"":                 "",
	} {
		got, ok := bearerToken(header)
		if got != want || ok != (want != "") {
			t.Errorf("bearerToken(%q): got %q, %v; want %q", header, got, ok, want)
		}
	}
}
