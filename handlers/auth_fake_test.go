package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models/auth"
)

// errStoreDown is what a store that cannot be reached returns.
var errStoreDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

// downAuth is an auth store whose database is down at the step named by
// failAt; the steps before it succeed. Methods sign-in never calls are left
// to the nil embedded interface: calling one panics the test.
type downAuth struct {
	handlers.AdminStore
	failAt string
}

func (d downAuth) fail(step string) error {
	if d.failAt == step {
		return errStoreDown
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
// a 500 page in plain words: nobody is signed in, no session cookie is set,
// and the cause stays in the log.
func TestLogin_StoreDown(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"device", "throttle", "password", "refund", "session"} {
		t.Run(step, func(t *testing.T) {
			a := newTestApp(t, func(d *handlers.Deps) { d.Stores.Auth = downAuth{failAt: step} })
			got := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}))
			if got.status != http.StatusInternalServerError {
				t.Fatalf("got %d, want 500", got.status)
			}
			if strings.Contains(got.body, "connection refused") {
				t.Error("the page shows the store's error")
			}
			if c := sessionCookieOf(got); c != nil && c.Value != "" {
				t.Errorf("got session cookie %q, want none", c.Value)
			}
		})
	}
}
