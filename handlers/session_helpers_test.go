package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models/auth"
)

// testAdminPassword is the password of every admin signIn creates.
const testAdminPassword = "correct horse battery staple"

// sessionCookieName is the cookie sign-in sets.
const sessionCookieName = "smiledash_session"

var signInSeq atomic.Int64

// session is a signed-in admin in tests. Page tests go through it so that they
// keep working whatever sign-in requires.
type session struct {
	app     *testApp
	admin   auth.Admin
	cookies []*http.Cookie
	csrf    string
}

// signIn creates an admin with the role (handlers.RoleAdmin or RoleViewer) in
// the store and signs in through POST /login, keeping the session cookie and
// the session's CSRF token.
func (a *testApp) signIn(t *testing.T, role string) *session {
	t.Helper()
	email := fmt.Sprintf("%s-%d@example.test", role, signInSeq.Add(1))
	admin, err := a.auth.CreateAdmin(context.Background(),
		auth.NewAdmin{Email: email, Password: testAdminPassword, Role: role}, time.Now())
	if err != nil {
		t.Fatalf("signIn: create %s: %v", email, err)
	}
	s := &session{app: a, admin: admin}
	resp := s.postForm(t, "/login", url.Values{"email": {email}, "password": {testAdminPassword}})
	if resp.status != http.StatusSeeOther {
		t.Fatalf("signIn: POST /login: got %d, want 303; body: %.300s", resp.status, resp.body)
	}
	cookie := sessionCookieOf(resp)
	if cookie == nil {
		t.Fatalf("signIn: POST /login set no %s cookie", sessionCookieName)
	}
	stored, err := a.auth.SessionByToken(context.Background(), cookie.Value)
	if err != nil {
		t.Fatalf("signIn: session of the cookie: %v", err)
	}
	s.cookies = []*http.Cookie{{Name: cookie.Name, Value: cookie.Value}}
	s.csrf = stored.CSRFToken
	return s
}

// sessionCookieOf returns the session cookie a response sets, or nil.
func sessionCookieOf(r response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == sessionCookieName {
			return c
		}
	}
	return nil
}

// get sends a GET as this admin; headers are name, value pairs.
func (s *session) get(t *testing.T, path string, headers ...string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.send(t, req)
}

// postForm sends a form POST as this admin, with the CSRF token in _csrf.
func (s *session) postForm(t *testing.T, path string, form url.Values) response {
	t.Helper()
	if s.csrf != "" {
		form.Set("_csrf", s.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.send(t, req)
}

// send sends any request as this admin: the session cookie, and for
// state-changing methods the CSRF token in X-CSRF-Token (as htmx sends it)
// unless the request already has one.
func (s *session) send(t *testing.T, req *http.Request) response {
	t.Helper()
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	if s.csrf != "" && req.Method != http.MethodGet && req.Method != http.MethodHead && req.Header.Get("X-CSRF-Token") == "" {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	return s.app.do(t, req)
}
