package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models/auth"
)

// authProbe is a path under /admin that no page serves: a signed-in request
// passes sign-in and gets 404, a signed-out one is refused before that.
const authProbe = "/admin/__auth_probe"

// authClock is a settable clock for Deps.Now.
type authClock struct {
	mu  sync.Mutex
	now time.Time
}

func newAuthClock() *authClock {
	return &authClock{now: time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)}
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func withClock(c *authClock) func(*handlers.Deps) {
	return func(d *handlers.Deps) { d.Now = c.Now }
}

// createTestAdmin stores an admin with testAdminPassword.
func createTestAdmin(t *testing.T, a *testApp, email, role string) auth.Admin {
	t.Helper()
	admin, err := a.auth.CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: testAdminPassword, Role: role}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return admin
}

// loginRequest is POST /login with a form; headers are name, value pairs.
func loginRequest(form url.Values, headers ...string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func TestLogin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
	good := func(next string) url.Values {
		return url.Values{"email": {"Alice@Example.com"}, "password": {testAdminPassword}, "next": {next}}
	}
	tests := []struct {
		name         string
		req          *http.Request
		wantStatus   int
		wantLocation string
		wantCookie   bool
		wantContains []string
	}{
		{"success", loginRequest(good("")), 303, "/admin", true, nil},
		{"success to next", loginRequest(good("/admin/users?q=a%20b&sort=last")), 303, "/admin/users?q=a%20b&sort=last", true, nil},
		{"next exactly /admin", loginRequest(good("/admin")), 303, "/admin", true, nil},
		{"same-origin form", loginRequest(good(""), "Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"), 303, "/admin", true, nil},
		{"wrong password", loginRequest(url.Values{"email": {"alice@example.com"}, "password": {"not the password"}}), 422, "", false,
			[]string{`data-testid="login-error"`, "The email or password is incorrect.", `value="alice@example.com"`}},
		{"unknown email", loginRequest(url.Values{"email": {"nobody@example.com"}, "password": {testAdminPassword}}), 422, "", false,
			[]string{"The email or password is incorrect."}},
		{"empty password", loginRequest(url.Values{"email": {"alice@example.com"}}), 422, "", false,
			[]string{"Enter your email and password."}},
		{"cross-site form", loginRequest(good(""), "Sec-Fetch-Site", "cross-site"), 403, "", false, nil},
		{"other origin", loginRequest(good(""), "Origin", "https://evil.example"), 403, "", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.do(t, tc.req)
			if resp.status != tc.wantStatus {
				t.Fatalf("got %d, want %d; body: %.300s", resp.status, tc.wantStatus, resp.body)
			}
			if got := resp.header.Get("Location"); got != tc.wantLocation {
				t.Errorf("got Location %q, want %q", got, tc.wantLocation)
			}
			if got := sessionCookieOf(resp) != nil; got != tc.wantCookie {
				t.Errorf("got session cookie %v, want %v", got, tc.wantCookie)
			}
			for _, want := range tc.wantContains {
				if !strings.Contains(resp.body, want) {
					t.Errorf("body lacks %q", want)
				}
			}
		})
	}
}

func TestLogin_NextIsNeverAnotherSite(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
	for _, next := range []string{
		"https://evil.example/admin", "//evil.example", "///evil.example", "/\\evil.example", "/admin\\..\\x",
		"javascript:alert(1)", "/adminevil", "/admin@evil.example", "/login", "/api/v1/users", "/admin\r\nSet-Cookie: x=1",
		"http:/admin", " /admin",
	} {
		t.Run(next, func(t *testing.T) {
			resp := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}, "next": {next}}))
			if resp.status != 303 || resp.header.Get("Location") != "/admin" {
				t.Fatalf("got %d to %q, want 303 to /admin", resp.status, resp.header.Get("Location"))
			}
		})
	}
}

func TestLogin_CookieFlags(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run("secure="+strconv.FormatBool(secure), func(t *testing.T) {
			a := newTestApp(t, func(d *handlers.Deps) { d.Admin.SecureCookies = secure })
			createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
			resp := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}))
			c := sessionCookieOf(resp)
			if c == nil {
				t.Fatalf("got no session cookie (status %d)", resp.status)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure {
				t.Fatalf("got %+v, want HttpOnly, SameSite=Lax, Path=/, Secure=%v", c, secure)
			}
			if len(c.Value) < 40 {
				t.Fatalf("got token %q, want at least 256 bits", c.Value)
			}
			stored, err := a.auth.SessionByToken(context.Background(), c.Value)
			if err != nil || stored.TokenHash == c.Value {
				t.Fatalf("got %+v, %v; want the session stored under the token's hash", stored, err)
			}
		})
	}
}

func TestLogin_NewSessionReplacesOld(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	s := a.signIn(t, handlers.RoleAdmin)
	old := s.cookies[0].Value
	req := loginRequest(url.Values{"email": {s.admin.Email}, "password": {testAdminPassword}})
	req.AddCookie(&http.Cookie{Name: sessionCookieName, Value: old})
	resp := a.do(t, req)
	c := sessionCookieOf(resp)
	if resp.status != 303 || c == nil || c.Value == old {
		t.Fatalf("got %d with cookie %v, want 303 and a new token", resp.status, c)
	}
	if _, err := a.auth.SessionByToken(context.Background(), old); err == nil {
		t.Fatal("the session from before sign-in still exists, want it deleted")
	}
}

func TestShowLogin(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, func(d *handlers.Deps) { d.Admin.Sandbox = true })
	resp := a.do(t, httptest.NewRequest(http.MethodGet, "/login?next=/admin/events", nil))
	if resp.status != 200 {
		t.Fatalf("got %d, want 200", resp.status)
	}
	for _, want := range []string{`data-testid="login-form"`, `name="next" value="/admin/events"`, `data-testid="sandbox-hint"`} {
		if !strings.Contains(resp.body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if csp := resp.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("got CSP %q, want the page security headers", csp)
	}
	hostile := a.do(t, httptest.NewRequest(http.MethodGet, "/login?next=https://evil.example", nil))
	if strings.Contains(hostile.body, "evil.example") {
		t.Error("the sign-in page carries an off-site next, want it dropped")
	}

	s := a.signIn(t, handlers.RoleViewer)
	if got := s.get(t, "/login?next=/admin/users"); got.status != 303 || got.header.Get("Location") != "/admin/users" {
		t.Fatalf("signed in: got %d to %q, want 303 to /admin/users", got.status, got.header.Get("Location"))
	}
}

func TestLogin_Throttle(t *testing.T) {
	t.Parallel()
	clock := newAuthClock()
	a := newTestApp(t, withClock(clock))
	createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
	wrong := url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}}
	right := url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}
	for i := range auth.LoginFailuresPerEmail {
		if resp := a.do(t, loginRequest(wrong)); resp.status != 422 {
			t.Fatalf("failure %d: got %d, want 422", i+1, resp.status)
		}
	}
	// Even the right password is refused while throttled, so guessing gains nothing.
	resp := a.do(t, loginRequest(right))
	if resp.status != 429 || sessionCookieOf(resp) != nil {
		t.Fatalf("got %d, want 429 without a session", resp.status)
	}
	if ra, _ := strconv.Atoi(resp.header.Get("Retry-After")); ra <= 0 || ra > 15*60 {
		t.Errorf("got Retry-After %q, want seconds up to 900", resp.header.Get("Retry-After"))
	}
	if !strings.Contains(resp.body, "Too many failed sign-in attempts") || !strings.Contains(resp.body, `data-testid="login-form"`) {
		t.Errorf("got body %.300s, want the form with a plain message", resp.body)
	}
	clock.Advance(auth.LoginThrottleWindow)
	if resp := a.do(t, loginRequest(right)); resp.status != 303 {
		t.Fatalf("after the window: got %d, want 303", resp.status)
	}
}

func TestLogin_ThrottlePerIP(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
	for i := range auth.LoginFailuresPerIP {
		// A forged X-Forwarded-For from an untrusted peer must not spread the count.
		form := url.Values{"email": {"guess" + strconv.Itoa(i) + "@example.com"}, "password": {"wrong password!"}}
		if resp := a.do(t, loginRequest(form, "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))); resp.status != 422 {
			t.Fatalf("failure %d: got %d, want 422", i+1, resp.status)
		}
	}
	resp := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}, "X-Forwarded-For", "203.0.113.1"))
	if resp.status != 429 || resp.header.Get("Retry-After") == "" {
		t.Fatalf("got %d (Retry-After %q), want 429 for the address", resp.status, resp.header.Get("Retry-After"))
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)

	t.Run("with CSRF token", func(t *testing.T) {
		s := a.signIn(t, handlers.RoleViewer)
		resp := s.postForm(t, "/logout", url.Values{})
		if resp.status != 303 || resp.header.Get("Location") != "/login" {
			t.Fatalf("got %d to %q, want 303 to /login", resp.status, resp.header.Get("Location"))
		}
		if c := sessionCookieOf(resp); c == nil || c.Value != "" {
			t.Errorf("got cookie %v, want it cleared", c)
		}
		if _, err := a.auth.SessionByToken(context.Background(), s.cookies[0].Value); err == nil {
			t.Error("session still stored after sign-out")
		}
		if got := s.get(t, authProbe); got.status != 303 {
			t.Errorf("after sign-out: got %d, want 303 to sign in", got.status)
		}
	})
	t.Run("without CSRF token", func(t *testing.T) {
		s := a.signIn(t, handlers.RoleAdmin)
		req := httptest.NewRequest(http.MethodPost, "/logout", nil)
		req.AddCookie(s.cookies[0])
		if resp := a.do(t, req); resp.status != 403 {
			t.Fatalf("got %d, want 403", resp.status)
		}
		s2 := *s
		s2.csrf = "not-the-token"
		if resp := s2.postForm(t, "/logout", url.Values{}); resp.status != 403 {
			t.Fatalf("wrong token: got %d, want 403", resp.status)
		}
		if got := s.get(t, authProbe); got.status != 404 {
			t.Fatalf("got %d, want the session still valid (404 from the probe)", got.status)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		resp := a.do(t, httptest.NewRequest(http.MethodPost, "/logout", nil))
		if resp.status != 303 || resp.header.Get("Location") != "/login" {
			t.Fatalf("got %d to %q, want 303 to /login", resp.status, resp.header.Get("Location"))
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		clock := newAuthClock()
		a := newTestApp(t, withClock(clock))
		s := a.signIn(t, handlers.RoleAdmin)
		clock.Advance(auth.SessionIdleTimeout - time.Minute)
		if got := s.get(t, authProbe); got.status != 404 {
			t.Fatalf("before idle expiry: got %d, want 404 (signed in)", got.status)
		}
		clock.Advance(auth.SessionIdleTimeout)
		got := s.get(t, authProbe)
		if got.status != 303 || got.header.Get("Location") != "/login?next="+url.QueryEscape(authProbe) {
			t.Fatalf("after idle expiry: got %d to %q, want 303 to sign in", got.status, got.header.Get("Location"))
		}
	})
	t.Run("absolute", func(t *testing.T) {
		clock := newAuthClock()
		a := newTestApp(t, withClock(clock))
		s := a.signIn(t, handlers.RoleAdmin)
		start := clock.Now()
		for clock.Now().Sub(start) < auth.SessionMaxAge-time.Hour {
			if got := s.get(t, authProbe); got.status != 404 {
				t.Fatalf("active after %v: got %d, want 404 (signed in)", clock.Now().Sub(start), got.status)
			}
			clock.Advance(4 * time.Hour)
		}
		clock.Advance(time.Hour)
		if got := s.get(t, authProbe); got.status != 303 {
			t.Fatalf("after %v: got %d, want 303 (absolute expiry)", clock.Now().Sub(start), got.status)
		}
	})
}

func TestRequireSignIn_Refusals(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	tests := []struct {
		name         string
		method, path string
		headers      []string
		wantStatus   int
		wantHeader   [2]string
	}{
		{"page", "GET", "/admin/users?status=FAILED", nil, 303, [2]string{"Location", "/login?next=%2Fadmin%2Fusers%3Fstatus%3DFAILED"}},
		{"overview", "GET", "/admin", nil, 303, [2]string{"Location", "/login"}},
		{"htmx fragment", "GET", "/admin/users/rows?after=9", []string{"HX-Request", "true", "HX-Current-URL", "http://example.com/admin/users?q=x"},
			401, [2]string{"HX-Redirect", "/login?next=%2Fadmin%2Fusers%3Fq%3Dx"}},
		{"event stream", "GET", "/admin/stream", []string{"Accept", "text/event-stream"}, 401, [2]string{}},
		{"json", "GET", "/admin/users", []string{"Accept", "application/json"}, 401, [2]string{}},
		{"form post", "POST", "/admin/links", []string{"Content-Type", "application/x-www-form-urlencoded"}, 303, [2]string{"Location", "/login"}},
		{"forged cookie", "GET", authProbe, []string{"Cookie", sessionCookieName + "=forged"}, 303, [2]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			for i := 0; i+1 < len(tc.headers); i += 2 {
				req.Header.Set(tc.headers[i], tc.headers[i+1])
			}
			resp := a.do(t, req)
			if resp.status != tc.wantStatus {
				t.Fatalf("got %d, want %d", resp.status, tc.wantStatus)
			}
			if tc.wantHeader[0] != "" && resp.header.Get(tc.wantHeader[0]) != tc.wantHeader[1] {
				t.Errorf("got %s %q, want %q", tc.wantHeader[0], resp.header.Get(tc.wantHeader[0]), tc.wantHeader[1])
			}
		})
	}
}

func TestViewersAreReadOnly(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	viewer := a.signIn(t, handlers.RoleViewer)
	admin := a.signIn(t, handlers.RoleAdmin)
	if got := viewer.get(t, authProbe); got.status != 404 {
		t.Fatalf("viewer GET: got %d, want 404 (signed in, may read)", got.status)
	}
	resp := viewer.postForm(t, authProbe, url.Values{})
	if resp.status != 403 || !strings.Contains(resp.body, "can only view") {
		t.Fatalf("viewer POST: got %d %.200s, want 403 with a plain message", resp.status, resp.body)
	}
	if got := admin.postForm(t, authProbe, url.Values{}); got.status != 404 {
		t.Fatalf("admin POST: got %d, want 404 (allowed through)", got.status)
	}
}
