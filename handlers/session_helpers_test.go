package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// session is a signed-in admin in tests. Page tests go through it so that they
// keep working whatever sign-in requires. (Placeholder until sign-in lands: it
// sends requests without credentials.)
type session struct {
	app     *testApp
	cookies []*http.Cookie
	csrf    string
}

// signIn creates an admin with the role and signs in.
func (a *testApp) signIn(t *testing.T, role string) *session {
	t.Helper()
	return &session{app: a}
}

// get sends a GET as this admin.
func (s *session) get(t *testing.T, path string, headers ...string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	return s.app.do(t, req)
}

// postForm sends a form POST as this admin, with the CSRF token.
func (s *session) postForm(t *testing.T, path string, form url.Values) response {
	t.Helper()
	if s.csrf != "" {
		form.Set("_csrf", s.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	return s.app.do(t, req)
}
