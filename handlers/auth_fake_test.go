package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
)

// downAuth is an auth store that fails with err at the step named by
// failAt; the steps before it succeed. Methods sign-in never calls are left
// to the nil embedded interface: calling one panics the test.
type downAuth struct {
	handlers.AdminStore
	failAt string
	err    error
}

func (d downAuth) fail(step string) error {
	if d.failAt == step {
		return d.err
	}
	return nil
}

func (d downAuth) DeviceFor(context.Context, string, string, time.Time) (string, error) {
	return "", d.fail("device")
}

func (d downAuth) TakeSignIn(context.Context, auth.SignInAttempt, time.Time) (time.Duration, error) {
	return 0, d.fail("throttle")
}

func (d downAuth) Authenticate(context.Context, string, string, time.Time) (auth.Admin, error) {
	return auth.Admin{ID: 1, Email: "alice@example.com", Role: auth.RoleAdmin}, d.fail("password")
}

func (d downAuth) SignInSucceeded(context.Context, auth.SignInAttempt, time.Time) error {
	return d.fail("refund")
}

func (d downAuth) IssueDeviceToken(context.Context, auth.Admin, time.Time) (string, error) {
	return "", d.fail("device token")
}

func (d downAuth) CreateSession(context.Context, int64, auth.SessionClient, time.Time) (string, auth.AdminSession, error) {
	return "", auth.AdminSession{}, d.fail("session")
}

// SignedInByToken and APITokenByToken know no session or token unless their
// step fails.
func (d downAuth) SignedInByToken(context.Context, string, time.Time) (auth.SignedIn, error) {
	if err := d.fail("session check"); err != nil {
		return auth.SignedIn{}, err
	}
	return auth.SignedIn{}, models.ErrNotFound
}

func (d downAuth) APITokenByToken(context.Context, string, time.Time) (auth.APIToken, error) {
	if err := d.fail("token check"); err != nil {
		return auth.APIToken{}, err
	}
	return auth.APIToken{}, models.ErrNotFound
}

// TestLogin_StoreDown checks that a sign-in whose store fails at any step is
// the page in plain words with the failure's status (503 with Retry-After when
// the store is busy or unreachable, storeFailures): nobody is signed in, no
// session cookie is set, and the cause stays in the log.
func TestLogin_StoreDown(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"device", "throttle", "password", "refund", "session"} {
		for _, sf := range storeFailures {
			t.Run(step+"/"+sf.name, func(t *testing.T) {
				t.Parallel()
				a := newTestApp(t, func(d *handlers.Deps) { d.Stores.Auth = downAuth{failAt: step, err: sf.err} })
				got := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}))
				if got.status != sf.wantStatus {
					t.Fatalf("got %d, want %d", got.status, sf.wantStatus)
				}
				if strings.Contains(got.body, sf.leak) {
					t.Errorf("the page shows the store's error (%q)", sf.leak)
				}
				if got := got.header.Get("Retry-After"); (sf.wantStatus == http.StatusServiceUnavailable) != (got != "") {
					t.Errorf("got Retry-After %q with %d", got, sf.wantStatus)
				}
				if c := sessionCookieOf(got); c != nil && c.Value != "" {
					t.Errorf("got session cookie %q, want none", c.Value)
				}
			})
		}
	}
}

// TestSignedIn_StoreDown: when the store cannot check a session, a signed-in
// admin gets 503 with Retry-After in plain words, and keeps the session: a
// busy store must not sign anyone out or send them to the sign-in page. An
// API token that cannot be checked is a 503 JSON error, not "invalid token".
func TestSignedIn_StoreDown(t *testing.T) {
	t.Parallel()
	for _, sf := range storeFailures {
		t.Run(sf.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, func(d *handlers.Deps) {
				d.Stores.Auth = downAuth{failAt: "session check", err: sf.err}
			})
			req := httptest.NewRequest(http.MethodGet, "/admin/users", nil)
			req.AddCookie(&http.Cookie{Name: sessionCookieName, Value: "a-session-token"})
			got := a.do(t, req)
			if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
				t.Fatalf("got %d (Retry-After %q), want 503 with Retry-After", got.status, got.header.Get("Retry-After"))
			}
			if strings.Contains(got.body, sf.leak) || !strings.Contains(got.body, "Sign-in cannot be checked") {
				t.Errorf("got body %.300s, want the plain-words page without %q", got.body, sf.leak)
			}
			if c := sessionCookieOf(got); c != nil {
				t.Errorf("got Set-Cookie %s=%q, want the session left alone", c.Name, c.Value)
			}

			a = newTestApp(t, func(d *handlers.Deps) {
				d.Stores.Auth = downAuth{failAt: "token check", err: sf.err}
			})
			req = httptest.NewRequest(http.MethodGet, "/api/v1/users", nil)
			req.Header.Set("Authorization", "Bearer smd_some-token")
			got = a.do(t, req)
			if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
				t.Fatalf("API: got %d (Retry-After %q), want 503 with Retry-After", got.status, got.header.Get("Retry-After"))
			}
			if strings.Contains(got.body, sf.leak) || got.header.Get("WWW-Authenticate") != "" {
				t.Errorf("API: got body %s and WWW-Authenticate %q, want a plain 503", got.body, got.header.Get("WWW-Authenticate"))
			}
		})
	}
}
