package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

// connectAppOn is a connect app whose store (pages, links, sessions,
// throttles) is s.
func connectAppOn(t *testing.T, s *models.Store) *connectApp {
	t.Helper()
	a := newConnectApp(t, func(d *handlers.Deps) { d.Stores = storesOf(s) })
	a.store = s
	return a
}

// flood sends n copies of a request at once and returns the responses.
// It reports failures with t.Error: it runs its requests off the test goroutine.
func flood(t *testing.T, a *testApp, n int, req func() *http.Request) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := a.app.Test(req(), -1)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			out[i] = response{status: resp.StatusCode, body: string(b), header: resp.Header}
		})
	}
	wg.Wait()
	return out
}

func jsonPost(path, body string) func() *http.Request {
	return func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
}

// checkRefusals checks that every response is want or a 429 with
// Retry-After in (0, maxWait] and a JSON error, and returns how many were want.
func checkRefusals(t *testing.T, resps []response, want int, maxWait time.Duration) (ok, refused int) {
	t.Helper()
	for _, r := range resps {
		switch r.status {
		case want:
			ok++
		case http.StatusTooManyRequests:
			refused++
			ra, err := strconv.Atoi(r.header.Get("Retry-After"))
			var body struct{ Error string }
			if err != nil || ra <= 0 || time.Duration(ra)*time.Second > maxWait || json.Unmarshal([]byte(r.body), &body) != nil || body.Error == "" {
				t.Fatalf("got 429 with Retry-After %q and body %s, want seconds up to %v and a JSON error", r.header.Get("Retry-After"), r.body, maxWait)
			}
		default:
			t.Fatalf("got %d %s, want %d or 429", r.status, r.body, want)
		}
	}
	return ok, refused
}

func countKind(kinds []string, kind string) int {
	n := 0
	for _, k := range kinds {
		if k == kind {
			n++
		}
	}
	return n
}

// TestRefreshConnectToken_ParallelFlood: 100 parallel refreshes get at most
// the link's 30 tokens from Smile (the page's open took one), however they
// interleave, and the burst is recorded once.
func TestRefreshConnectToken_ParallelFlood(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a := connectAppOn(t, s)
		l := a.link(t, "crm-token-flood", nil)
		_, boot, _ := a.open(t, l.Code)
		resps := flood(t, a.testApp, 100, jsonPost(boot.TokenURL, `{"session":"`+boot.Session+`","reason":"expired"}`))
		ok, refused := checkRefusals(t, resps, http.StatusOK, models.TokenWindow)
		if calls := a.tokenCalls.Load(); calls > models.MaxTokensPerLink || calls != int64(ok+1) {
			t.Fatalf("got %d token calls to Smile for %d tokens handed out (and the open), want at most %d", calls, ok, models.MaxTokensPerLink)
		}
		if refused < 100-(models.MaxTokensPerLink-1) {
			t.Errorf("got %d refused, want at least %d", refused, 100-(models.MaxTokensPerLink-1))
		}
		if n := countKind(a.actionKinds(t, l.ID), models.ActionLinkThrottled); n != 1 {
			t.Errorf("got %d link_throttled actions, want one for the burst", n)
		}
	})
}

// TestReceiveCallback_FloodCutAtLimit: a page posting callbacks in a flood is
// cut at its limit per minute, and the burst is recorded once.
func TestReceiveCallback_FloodCutAtLimit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a := connectAppOn(t, s)
		l, session := a.fixtureSession(t, "crm-callback-flood", time.Now(), time.Hour)
		body := callbackBody(t, "onClose", json.RawMessage(`{"reason":"user_closed"}`), session)
		resps := flood(t, a.testApp, models.MaxCallbacksPerSession+60, jsonPost("/connect/"+l.Code+"/events", body))
		ok, refused := checkRefusals(t, resps, http.StatusNoContent, models.CallbackWindow)
		if ok != models.MaxCallbacksPerSession || refused != 60 {
			t.Fatalf("got %d stored and %d refused, want %d and 60", ok, refused, models.MaxCallbacksPerSession)
		}
		if got := len(a.callbacks(t)); got != models.MaxCallbacksPerSession {
			t.Errorf("got %d callbacks stored, want %d", got, models.MaxCallbacksPerSession)
		}
		if n := countKind(a.actionKinds(t, l.ID), models.ActionLinkThrottled); n != 1 {
			t.Errorf("got %d link_throttled actions, want one for the burst", n)
		}
	})
}

// TestReceiveCallback_BytesPerDay: big posts are counted, even refused ones
// (here callbacks Smile does not document, answered 400), until the link's
// bytes per day are spent; then even a small valid callback waits for the
// next day.
func TestReceiveCallback_BytesPerDay(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l, session := a.fixtureSession(t, "crm-bytes", time.Now(), time.Hour)
	big := `{"callback":"onNothing","args":"` + strings.Repeat("x", handlers.MaxCallbackBytes-200) + `","session":"` + session + `"}`
	sent := 0
	for range models.MaxCallbackBytesPerLink/len(big) + 1 {
		resp := a.postJSON(t, "/connect/"+l.Code+"/events", big)
		if resp.status == http.StatusTooManyRequests {
			break
		}
		if resp.status != http.StatusBadRequest {
			t.Fatalf("got %d %s, want 400", resp.status, resp.body)
		}
		sent += len(big)
	}
	if sent != models.MaxCallbackBytesPerLink/len(big)*len(big) {
		t.Fatalf("got %d bytes through, want the day's %d cut at a whole post", sent, models.MaxCallbackBytesPerLink)
	}
	small := callbackBody(t, "onClose", json.RawMessage(`{"reason":"user_closed"}`), session)
	resp := a.postJSON(t, "/connect/"+l.Code+"/events", strings.Repeat(" ", models.MaxCallbackBytesPerLink%len(big))+small)
	if ra, _ := strconv.Atoi(resp.header.Get("Retry-After")); resp.status != http.StatusTooManyRequests || ra < 23*3600 {
		t.Fatalf("got %d with Retry-After %q, want 429 and about a day", resp.status, resp.header.Get("Retry-After"))
	}
	if n := countKind(a.actionKinds(t, l.ID), models.ActionLinkThrottled); n != 1 {
		t.Errorf("got %d link_throttled actions, want 1", n)
	}
	if got := len(a.callbacks(t)); got != 0 {
		t.Errorf("got %d callbacks stored, want none", got)
	}
}

// TestReceiveCallback_ForgedSessionsAreNotCounted: posts without a valid
// session are refused before any limit, so they cannot spend a link's
// allowance.
func TestReceiveCallback_ForgedSessionsAreNotCounted(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l, session := a.fixtureSession(t, "crm-forged", time.Now(), time.Hour)
	forged := callbackBody(t, "onClose", nil, "forged")
	for range models.MaxCallbacksPerSession + 1 {
		if resp := a.postJSON(t, "/connect/"+l.Code+"/events", forged); resp.status != http.StatusForbidden {
			t.Fatalf("forged: got %d, want 403", resp.status)
		}
	}
	if resp := a.postJSON(t, "/connect/"+l.Code+"/events", callbackBody(t, "onClose", nil, session)); resp.status != http.StatusNoContent {
		t.Fatalf("real page after a forged flood: got %d, want 204", resp.status)
	}
}

// deviceCookieName is the cookie marking a browser that signed in before.
const deviceCookieName = "smiledash_device"

func deviceCookieOf(r response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == deviceCookieName {
			return c
		}
	}
	return nil
}

func withCookie(req *http.Request, name, value string) *http.Request {
	req.AddCookie(&http.Cookie{Name: name, Value: value})
	return req
}

// TestLogin_ParallelGuessing: 40 parallel wrong passwords for one email from
// one address are counted before bcrypt, so at most 5 are checked and the rest
// get 429; the right password then waits too, except in the real admin's
// browser, which holds a device cookie from an earlier sign-in. A forged,
// tampered or other admin's device cookie earns nothing.
func TestLogin_ParallelGuessing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a := newTestApp(t, func(d *handlers.Deps) { d.Stores = storesOf(s) })
		a.store = s
		createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
		createTestAdmin(t, a, "bob@example.com", handlers.RoleAdmin)
		right := url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}}
		wrong := url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}}
		aliceDevice := deviceCookieOf(a.do(t, loginRequest(right)))
		bobDevice := deviceCookieOf(a.do(t, loginRequest(url.Values{"email": {"bob@example.com"}, "password": {testAdminPassword}})))
		if aliceDevice == nil || bobDevice == nil {
			t.Fatal("a successful sign-in set no device cookie")
		}

		checked := a.auth.PasswordChecks()
		resps := flood(t, a, 40, func() *http.Request { return loginRequest(wrong) })
		refused := 0
		for _, r := range resps {
			switch r.status {
			case http.StatusTooManyRequests:
				if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra <= 0 || ra > 15*60 {
					t.Errorf("got Retry-After %q, want seconds up to 900", r.header.Get("Retry-After"))
				}
				refused++
			case http.StatusUnprocessableEntity:
			default:
				t.Fatalf("got %d, want 422 or 429", r.status)
			}
		}
		if checked = a.auth.PasswordChecks() - checked; refused < 35 || checked > 40-int64(refused) || checked > auth.LoginFailuresPerEmail {
			t.Fatalf("got %d refused and %d passwords checked, want at least 35 refused and at most %d checked", refused, checked, auth.LoginFailuresPerEmail)
		}
		if resp := a.do(t, loginRequest(right)); resp.status != http.StatusTooManyRequests {
			t.Fatalf("right password from a browser without a device cookie: got %d, want 429", resp.status)
		}
		parts := strings.Split(aliceDevice.Value, ".")
		// Change the first character to one it is not, so the forgery never
		// equals the real cookie.
		flip := "x"
		if strings.HasPrefix(parts[3], "x") {
			flip = "y"
		}
		tampered := strings.Join(append(parts[:3:3], flip+parts[3][1:], parts[4]), ".")
		for name, value := range map[string]string{"forged": "v1.1.1.forged.forged", "tampered": tampered, "bob's": bobDevice.Value} {
			if resp := a.do(t, withCookie(loginRequest(right), deviceCookieName, value)); resp.status != http.StatusTooManyRequests {
				t.Errorf("%s device cookie: got %d, want 429 (no exemption)", name, resp.status)
			}
		}
		resp := a.do(t, withCookie(loginRequest(right), deviceCookieName, aliceDevice.Value))
		if resp.status != http.StatusSeeOther || sessionCookieOf(resp) == nil {
			t.Fatalf("the real admin's browser: got %d, want 303 with a session", resp.status)
		}
	})
}

// TestLogin_ThrottleSharedByReplicas: two apps on two store handles of one
// PostgreSQL schema count the same sign-in attempts.
func TestLogin_ThrottleSharedByReplicas(t *testing.T) {
	t.Parallel()
	s1 := storetest.Postgres(t)
	s2 := storetest.Replica(t, s1)
	a1 := newTestApp(t, func(d *handlers.Deps) { d.Stores = storesOf(s1) })
	a2 := newTestApp(t, func(d *handlers.Deps) { d.Stores = storesOf(s2) })
	a1.store, a2.store = s1, s2
	createTestAdmin(t, a1, "alice@example.com", handlers.RoleAdmin)
	wrong := url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}}
	for i := range auth.LoginFailuresPerEmail {
		if resp := []*testApp{a1, a2}[i%2].do(t, loginRequest(wrong)); resp.status != http.StatusUnprocessableEntity {
			t.Fatalf("attempt %d: got %d, want 422", i+1, resp.status)
		}
	}
	for _, a := range []*testApp{a1, a2} {
		if resp := a.do(t, loginRequest(wrong)); resp.status != http.StatusTooManyRequests {
			t.Fatalf("after %d failures over two replicas: got %d, want 429", auth.LoginFailuresPerEmail, resp.status)
		}
	}
}

func TestLogin_DeviceCookieFlags(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run("secure="+strconv.FormatBool(secure), func(t *testing.T) {
			a := newTestApp(t, func(d *handlers.Deps) { d.Admin.SecureCookies = secure })
			createTestAdmin(t, a, "alice@example.com", handlers.RoleAdmin)
			c := deviceCookieOf(a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {testAdminPassword}})))
			if c == nil {
				t.Fatal("got no device cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.MaxAge < 364*24*3600 {
				t.Fatalf("got %+v, want HttpOnly, SameSite=Lax, Secure=%v, a year", c, secure)
			}
			if resp := a.do(t, loginRequest(url.Values{"email": {"alice@example.com"}, "password": {"wrong password!"}})); deviceCookieOf(resp) != nil {
				t.Error("a failed sign-in set a device cookie")
			}
		})
	}
}
