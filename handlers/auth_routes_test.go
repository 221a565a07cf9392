package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"smiledash/handlers"
)

// protectedRoute is one route of the table that must need sign-in.
type protectedRoute struct{ method, path string }

// protectedRoutes walks the registered routes and returns every /admin and
// /api route, with parameters filled in, plus paths that must be protected
// whether or not a page serves them yet (so the walk is never vacuous).
func protectedRoutes(t *testing.T, a *testApp) []protectedRoute {
	t.Helper()
	seen := map[protectedRoute]bool{}
	var out []protectedRoute
	add := func(r protectedRoute) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range a.app.GetRoutes(true) {
		if r.Path == "/admin" || strings.HasPrefix(r.Path, "/admin/") || strings.HasPrefix(r.Path, "/api") {
			add(protectedRoute{r.Method, fillRouteParams(r.Path)})
		}
	}
	for _, p := range []string{"/admin", "/admin/users", "/admin/users/1", "/admin/events", "/admin/events/1",
		"/admin/deliveries", "/admin/links", "/admin/settings", "/admin/stream", "/api/v1/users", "/api/v1/events",
		"/admin/admins", "/admin/tokens", "/admin/audit"} {
		add(protectedRoute{http.MethodGet, p})
	}
	for _, p := range []string{"/admin/links", "/admin/events/1/reproject", "/admin/settings/webhook", "/api/v1/links",
		"/admin/admins", "/admin/admins/1/role", "/admin/admins/1/remove", "/admin/tokens", "/admin/tokens/1/revoke"} {
		add(protectedRoute{http.MethodPost, p})
	}
	return out
}

// fillRouteParams turns a route pattern into a concrete path: ":id" and ":id<int>"
// become "1", wildcards become "x".
func fillRouteParams(pattern string) string {
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			parts[i] = "1"
		case p == "*" || p == "+":
			parts[i] = "x"
		}
	}
	return strings.Join(parts, "/")
}

func routeChangesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect:
		return false
	}
	return true
}

// refusedSignIn reports whether a response turned a signed-out request away: the
// sign-in page for people, 401 for htmx, streams, JSON and the API.
func refusedSignIn(r response) bool {
	switch r.status {
	case http.StatusUnauthorized:
		return true
	case http.StatusSeeOther:
		return strings.HasPrefix(r.header.Get("Location"), "/login")
	}
	return false
}

// TestRoutes_NoneOpenByAccident proves every /admin and /api route refuses a
// request without a session or token, however it asks.
func TestRoutes_NoneOpenByAccident(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	variants := []struct {
		name    string
		headers []string
	}{
		{"plain", nil},
		{"htmx", []string{"HX-Request", "true"}},
		{"json", []string{"Accept", "application/json"}},
		{"forged session", []string{"Cookie", sessionCookieName + "=forged"}},
		{"session token as bearer", []string{"Authorization", "Bearer forged"}},
	}
	for _, r := range protectedRoutes(t, a) {
		for _, v := range variants {
			t.Run(r.method+" "+r.path+" "+v.name, func(t *testing.T) {
				req := httptest.NewRequest(r.method, r.path, strings.NewReader("{}"))
				for i := 0; i+1 < len(v.headers); i += 2 {
					req.Header.Set(v.headers[i], v.headers[i+1])
				}
				if resp := a.do(t, req); !refusedSignIn(resp) {
					t.Fatalf("got %d (Location %q), want it refused (303 to /login or 401)", resp.status, resp.header.Get("Location"))
				}
			})
		}
	}
}

// TestRoutes_StateChangesNeedCSRFAndAdmin proves every state-changing /admin
// route refuses a signed-in request without the CSRF token (403), and a viewer
// even with it (403).
func TestRoutes_StateChangesNeedCSRFAndAdmin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	admin := a.signIn(t, handlers.RoleAdmin)
	viewer := a.signIn(t, handlers.RoleViewer)
	routes := append(protectedRoutes(t, a), protectedRoute{http.MethodPost, "/logout"})
	for _, r := range routes {
		if !routeChangesState(r.method) || strings.HasPrefix(r.path, "/api") {
			continue
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, token := range []string{"", "wrong-token"} {
				req := httptest.NewRequest(r.method, r.path, strings.NewReader("_csrf="+token))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(admin.cookies[0])
				if resp := a.do(t, req); resp.status != http.StatusForbidden {
					t.Fatalf("admin with CSRF token %q: got %d, want 403", token, resp.status)
				}
			}
			if r.path == "/logout" {
				return // viewers may sign out
			}
			req := httptest.NewRequest(r.method, r.path, strings.NewReader(""))
			if resp := viewer.send(t, req); resp.status != http.StatusForbidden {
				t.Fatalf("viewer with CSRF token: got %d, want 403", resp.status)
			}
		})
	}
}
