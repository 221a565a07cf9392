package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

func TestReceiveCallback_EveryFixture(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l, session := a.fixtureSession(t, "crm-1", time.Now(), time.Hour)
	names := smiletest.CallbackNames()
	if len(names) != len(smile.Callbacks) {
		t.Fatalf("got %d fixtures, want one per callback (%d)", len(names), len(smile.Callbacks))
	}
	for _, name := range names {
		args := smiletest.Callback(name)
		resp := a.postJSON(t, "/connect/"+l.Code+"/events", callbackBody(t, name, args, session))
		if resp.status != http.StatusNoContent {
			t.Errorf("%s: got %d %s, want 204", name, resp.status, resp.body)
		}
	}
	got := a.callbacks(t)
	if len(got) != len(names) {
		t.Fatalf("got %d callbacks stored, want %d", len(got), len(names))
	}
	for i, cb := range got {
		name := names[i]
		if cb.Name != name || cb.LinkID == nil || *cb.LinkID != l.ID || cb.UserKey == nil || *cb.UserKey != *l.UserKey {
			t.Errorf("%s: got %+v, want it filed under the link and its user", name, cb)
		}
		if !jsonEqual(t, []byte(cb.Args), smiletest.Callback(name)) {
			t.Errorf("%s: stored args %s, want the fixture as posted", name, cb.Args)
		}
		wantAccount := ""
		switch smile.Callback(name) {
		case smile.OnAccountCreated, smile.OnAccountConnected, smile.OnAccountRemoved:
			wantAccount = smiletest.FixtureAccountID
		case smile.OnAccountError:
			var v struct{ AccountID string }
			_ = json.Unmarshal(smiletest.Callback(name), &v)
			wantAccount = v.AccountID
		}
		if cb.AccountID != wantAccount {
			t.Errorf("%s: got account %q, want %q", name, cb.AccountID, wantAccount)
		}
		if cb.SourceIP == "" || cb.UserAgent != "Mozilla/5.0 (test)" {
			t.Errorf("%s: got source %q, agent %q", name, cb.SourceIP, cb.UserAgent)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var ca, cb bytes.Buffer
	if err := json.Compact(&ca, a); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	_ = json.Compact(&cb, b)
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func TestReceiveCallback_OnCloseConventions(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l, session := a.fixtureSession(t, "crm-2", time.Now(), time.Hour)
	path := "/connect/" + l.Code + "/events"
	for _, tc := range []struct{ body, stored string }{
		{`{"callback":"onClose","args":{"reason":"exit"},"session":"` + session + `"}`, `{"reason":"exit"}`},
		{`{"callback":"onClose","args":"close","session":"` + session + `"}`, `"close"`},
		{`{"callback":"onClose","session":"` + session + `"}`, `null`},
		{`{"callback":"onClose","args":null,"session":"` + session + `"}`, `null`},
		{`{"callback":"onClose","args":{},"session":"` + session + `"}`, `{}`},
		{`{"callback":"onTokenExpired","session":"` + session + `"}`, `null`},
	} {
		if resp := a.postJSON(t, path, tc.body); resp.status != http.StatusNoContent {
			t.Errorf("%s: got %d %s, want 204", tc.body, resp.status, resp.body)
		}
	}
	got := a.callbacks(t)
	want := []string{`{"reason":"exit"}`, `"close"`, `null`, `null`, `{}`, `null`}
	if len(got) != len(want) {
		t.Fatalf("got %d stored, want %d", len(got), len(want))
	}
	for i, cb := range got {
		if cb.Args != want[i] {
			t.Errorf("%d: stored %s, want %s as given", i, cb.Args, want[i])
		}
	}
}

func TestReceiveCallback_Refused(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	ctx := context.Background()
	l, session := a.fixtureSession(t, "crm-3", time.Now(), time.Hour)
	other, otherSession := a.fixtureSession(t, "crm-4", time.Now(), time.Hour)
	_, oldSession := a.fixtureSession(t, "crm-5", time.Now().Add(-3*time.Hour), time.Hour)
	revoked, revokedSession := a.fixtureSession(t, "crm-6", time.Now(), time.Hour)
	if _, err := a.store.RevokeLink(ctx, revoked.ID, "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, expiredSession := a.fixtureSession(t, "crm-7", time.Now().Add(-2*time.Hour), time.Hour)
	connected := smiletest.Callback("onAccountConnected")
	path := "/connect/" + l.Code + "/events"
	body := func(name string, args string) string {
		return callbackBody(t, name, json.RawMessage(args), session)
	}
	deep := strings.Repeat(`{"a":`, 12) + `1` + strings.Repeat(`}`, 12)
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"forged session", path, callbackBody(t, "onAccountConnected", connected, forge(session)), http.StatusForbidden},
		{"no session", path, `{"callback":"onClose","args":"close"}`, http.StatusForbidden},
		{"another link's session", path, callbackBody(t, "onClose", nil, otherSession), http.StatusForbidden},
		{"session on the other link's url", "/connect/" + other.Code + "/events", callbackBody(t, "onClose", nil, session), http.StatusForbidden},
		{"expired session", "/connect/" + l.Code + "/events", callbackBody(t, "onClose", nil, expiredSession), http.StatusForbidden},
		{"expired session of its own link", path, callbackBody(t, "onClose", nil, oldSession), http.StatusForbidden},
		{"revoked link", "/connect/" + revoked.Code + "/events", callbackBody(t, "onClose", nil, revokedSession), http.StatusForbidden},
		{"userId of someone else", path, body("onAccountConnected", `{"accountId":"a-1","userId":"sandbox-someone-else","providerId":"p"}`), http.StatusForbidden},
		{"unknown link", "/connect/nosuchcode00000000000000/events", body("onClose", `"close"`), http.StatusNotFound},
		{"unknown callback", path, body("onSomethingElse", `{}`), http.StatusBadRequest},
		{"not JSON", path, `callback=onClose`, http.StatusBadRequest},
		{"truncated JSON", path, `{"callback":"onClose","session":"` + session, http.StatusBadRequest},
		{"two objects", path, body("onClose", `"close"`) + `{}`, http.StatusBadRequest},
		{"unknown field", path, `{"callback":"onClose","session":"` + session + `","extra":1}`, http.StatusBadRequest},
		{"array body", path, `[]`, http.StatusBadRequest},
		{"args a string", path, body("onAccountConnected", `"a-1"`), http.StatusBadRequest},
		{"args missing", path, body("onAccountConnected", `null`), http.StatusBadRequest},
		{"userId a number", path, body("onAccountCreated", `{"userId":42}`), http.StatusBadRequest},
		{"accountId too long", path, body("onAccountCreated", `{"accountId":"`+strings.Repeat("a", 201)+`"}`), http.StatusBadRequest},
		{"close reason too long", path, body("onClose", `"`+strings.Repeat("x", 40)+`"`), http.StatusBadRequest},
		{"close reason a number", path, body("onClose", `7`), http.StatusBadRequest},
		{"nested too deep", path, body("onUploadsCreated", deep), http.StatusBadRequest},
		{"ui account not an object", path, body("onUIEvent", `{"eventName":"X","account":"a-1"}`), http.StatusBadRequest},
		{"string too long", path, body("onUploadsCreated", `{"uploads":["`+strings.Repeat("x", 3000)+`"]}`), http.StatusBadRequest},
		{"oversize body", path, body("onUploadsCreated", `{"uploads":"`+strings.Repeat("x", 70<<10)+`"}`), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.postJSON(t, tc.path, tc.body)
			if resp.status != tc.want {
				t.Errorf("got %d %s, want %d", resp.status, resp.body, tc.want)
			}
			if !strings.Contains(resp.header.Get("Content-Type"), "json") || !strings.Contains(resp.body, `"error"`) {
				t.Errorf("got %q %s, want a JSON error", resp.header.Get("Content-Type"), resp.body)
			}
		})
	}
	if got := a.callbacks(t); len(got) != 0 {
		t.Errorf("got %d callbacks stored from refused posts, want none: %+v", len(got), got)
	}
}

func TestReceiveCallback_DuplicateStoredTwice(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l, session := a.fixtureSession(t, "crm-8", time.Now(), time.Hour)
	body := callbackBody(t, "onAccountConnected", smiletest.Callback("onAccountConnected"), session)
	for range 2 {
		if resp := a.postJSON(t, "/connect/"+l.Code+"/events", body); resp.status != http.StatusNoContent {
			t.Fatalf("got %d", resp.status)
		}
	}
	if got := a.callbacks(t); len(got) != 2 {
		t.Errorf("got %d, want each post kept as its own claim", len(got))
	}
}

// forge changes a session token's first character: always another token.
func forge(session string) string {
	if session[0] == 'x' {
		return "y" + session[1:]
	}
	return "x" + session[1:]
}
