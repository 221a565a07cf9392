package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
)

func TestRefreshConnectToken(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-10", nil)
	_, boot, _ := a.open(t, l.Code)
	a.api.ExpireToken(boot.UserToken)

	resp := a.postJSON(t, boot.TokenURL, `{"session":"`+boot.Session+`","reason":"expired"}`)
	if resp.status != http.StatusOK {
		t.Fatalf("got %d %s, want 200", resp.status, resp.body)
	}
	var out struct {
		UserToken string    `json:"userToken"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	if err := json.Unmarshal([]byte(resp.body), &out); err != nil {
		t.Fatal(err)
	}
	bound, _ := a.store.LinkByID(context.Background(), l.ID)
	if user, ok := a.api.TokenValid(out.UserToken); !ok || user != bound.SmileUserID || out.UserToken == boot.UserToken {
		t.Errorf("got token for %q (valid %v), want a new valid token of %q", user, ok, bound.SmileUserID)
	}
	if resp.header.Get("Cache-Control") != "no-store" {
		t.Error("want Cache-Control: no-store on a token")
	}
	// reopen after onClose takes the same way.
	if resp := a.postJSON(t, boot.TokenURL, `{"session":"`+boot.Session+`","reason":"reopen"}`); resp.status != http.StatusOK {
		t.Errorf("reopen: got %d", resp.status)
	}
	if kinds := a.actionKinds(t, l.ID); strings.Join(kinds, ",") != "link_created,link_opened,token_refreshed,token_refreshed" {
		t.Errorf("got actions %v, want both refreshes recorded", kinds)
	}
	var detail string
	if err := a.store.DB().Table("actions").Where("link_id = ? AND kind = 'token_refreshed'", l.ID).Order("id").Limit(1).Pluck("detail", &detail).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if !strings.Contains(detail, `"reason":"expired"`) {
		t.Errorf("got detail %s, want the reason", detail)
	}
}

func TestRefreshConnectToken_Refused(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	l := a.link(t, "crm-11", nil)
	other := a.link(t, "crm-12", nil)
	_, boot, _ := a.open(t, l.Code)
	_, otherBoot, _ := a.open(t, other.Code)
	before := len(a.actionKinds(t, l.ID))
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"forged session", boot.TokenURL, `{"session":"forged"}`, http.StatusForbidden},
		{"no session", boot.TokenURL, `{}`, http.StatusForbidden},
		{"other link's session", boot.TokenURL, `{"session":"` + otherBoot.Session + `"}`, http.StatusForbidden},
		{"bad reason", boot.TokenURL, `{"session":"` + boot.Session + `","reason":"because"}`, http.StatusBadRequest},
		{"not JSON", boot.TokenURL, `session=x`, http.StatusBadRequest},
		{"unknown field", boot.TokenURL, `{"session":"` + boot.Session + `","x":1}`, http.StatusBadRequest},
		{"unknown link", "/connect/nosuchcode000000000000000/token", `{"session":"` + boot.Session + `"}`, http.StatusNotFound},
		{"oversize", boot.TokenURL, `{"session":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := a.postJSON(t, tc.path, tc.body); resp.status != tc.want {
				t.Errorf("got %d %s, want %d", resp.status, resp.body, tc.want)
			}
		})
	}
	if got := len(a.actionKinds(t, l.ID)); got != before {
		t.Errorf("refused requests recorded %d actions", got-before)
	}
}

func TestSandboxWidgetAPI(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t)
	hooks := &hookRecorder{}
	srv := httptest.NewServer(hooks)
	t.Cleanup(srv.Close)
	a.sim.SetReceiverURL(srv.URL)
	l := a.link(t, "crm-20", nil)
	_, boot, _ := a.open(t, l.Code)
	call := func(path, body string) response {
		t.Helper()
		return a.postJSON(t, "/sandbox/widget/"+path, body)
	}
	tok := `"token":"` + boot.UserToken + `"`
	if resp := call("open", `{`+tok+`}`); resp.status != http.StatusOK || !strings.Contains(resp.body, `"testLogins"`) {
		t.Errorf("open: got %d %s", resp.status, resp.body)
	}
	resp := call("login", `{`+tok+`,"providerId":"sss_ph","loginName":"gpalomero1234@smileapi.io","password":"123456"}`)
	if resp.status != http.StatusOK || !strings.Contains(resp.body, `"connected":true`) {
		t.Fatalf("login: got %d %s", resp.status, resp.body)
	}
	resp = call("login", `{`+tok+`,"providerId":"cpf_sg","loginName":"gpalomero1234@smileapi.io","password":"nope"}`)
	if !strings.Contains(resp.body, `"errorCode":"INVALID_CREDENTIALS"`) {
		t.Errorf("wrong password: got %s", resp.body)
	}
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"login", `{` + tok + `,"providerId":"nope","loginName":"x"}`, http.StatusBadRequest},
		{"login", `{"token":"forged","providerId":"sss_ph","loginName":"x"}`, http.StatusUnauthorized},
		{"login", `not json`, http.StatusBadRequest},
		{"uploads", `{` + tok + `,"fileType":"SELFIE"}`, http.StatusBadRequest},
		{"accounts/remove", `{` + tok + `,"accountId":"a-not-mine"}`, http.StatusNotFound},
		{"open", `{"token":"` + strings.Repeat("x", 9000) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		if resp := call(tc.path, tc.body); resp.status != tc.want {
			t.Errorf("%s %s: got %d %s, want %d", tc.path, tc.body, resp.status, resp.body, tc.want)
		}
	}
	if resp := call("expire", `{`+tok+`}`); resp.status != http.StatusOK {
		t.Errorf("expire: got %d", resp.status)
	}
	if resp := call("open", `{`+tok+`}`); resp.status != http.StatusUnauthorized {
		t.Errorf("open after expiry: got %d, want 401 (the widget fires onTokenExpired)", resp.status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.sim.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	types := hooks.types()
	for _, want := range []string{"ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "TASK_FINISHED", "ACCOUNT_FAILED"} {
		if !slices.Contains(types, want) {
			t.Errorf("got webhooks %v, want %s", types, want)
		}
	}
}

func TestSandboxRoutesOnlyInSandboxMode(t *testing.T) {
	t.Parallel()
	a := newConnectApp(t, func(d *handlers.Deps) { d.Connect.Sandbox = nil })
	if resp := a.postJSON(t, "/sandbox/widget/open", `{"token":"x"}`); resp.status != http.StatusNotFound {
		t.Errorf("got %d, want 404 outside sandbox mode", resp.status)
	}
}
