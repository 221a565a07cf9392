package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
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
