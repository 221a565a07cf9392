package fakeapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/sandbox"
)

// TestHTTPSandboxAPIContract drives the fake Smile API the way an integrator's
// backend reaches it in sandbox mode: over HTTP, under the sandbox's one base
// URL (/sandbox/smile/v1), with HTTP Basic. Every request and response of
// every operation, success and error, is validated against Smile's OpenAPI
// spec, GET /users included.
func TestHTTPSandboxAPIContract(t *testing.T) {
	api := fakeapi.New(fakeapi.Options{APIKey: testKey, APISecret: testSecret})
	sim, err := sandbox.New(sandbox.Options{API: api, Secret: []byte("sbx-contract")})
	must(t, err)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	base := srv.URL + sandbox.APIPath

	spec := newSpecTransport(t, http.DefaultTransport)
	spec.basePath = sandbox.APIPath
	newClient := func(secret string) *smile.Client {
		c, err := smile.NewClient(smile.ClientConfig{BaseURL: base, APIKey: testKey, APISecret: secret,
			HTTPClient: &http.Client{Transport: spec, Timeout: 5 * time.Second}, RequestsPerSecond: -1, MaxRetries: -1})
		must(t, err)
		return c
	}
	c := newClient(testSecret)
	ctx := t.Context()
	raw := func(ctx context.Context, method, target, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+target, strings.NewReader(body))
		must(t, err)
		req.SetBasicAuth(testKey, testSecret)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := (&http.Client{Transport: spec}).Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// The quickstart's calls: POST /users with {}, then POST /tokens?userId=.
	if status, body := raw(ctx, http.MethodPost, "/users", `{}`); status != http.StatusCreated || !strings.Contains(body, `"accessToken"`) {
		t.Fatalf("POST /users: got %d %s", status, body)
	}
	user, _, err := c.CreateUser(ctx, map[string]string{"ref": "42"})
	must(t, err)
	_, err = c.RefreshToken(ctx, user.ID)
	must(t, err)
	_, err = c.User(ctx, user.ID)
	must(t, err)
	today := time.Now().UTC().Format(time.DateOnly)
	for _, target := range []string{"/users", "/users?size=1", "/users?startDate=" + today + "&endDate=" + today} {
		if status, body := raw(ctx, http.MethodGet, target, ""); status != http.StatusOK || !strings.Contains(body, user.ID) && !strings.Contains(target, "size=1") {
			t.Errorf("GET %s: got %d %s", target, status, body)
		}
	}
	acct, err := api.AddAccount(user.ID, "sss_ph", smile.ConnectionConnected, nil)
	must(t, err)
	_, err = c.Accounts(ctx, user.ID, "", 1)
	must(t, err)
	_, err = c.Account(ctx, acct.ID)
	must(t, err)
	must(t, c.RevokeAccount(ctx, acct.ID))
	hook, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "n", URL: "https://hooks.example.com/smile",
		EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s3cret"})
	must(t, err)
	_, err = c.Webhooks(ctx, "", 0)
	must(t, err)
	_, err = c.Webhook(ctx, hook.ID)
	must(t, err)
	must(t, c.DeleteWebhook(ctx, hook.ID))

	// Error answers, with Smile's codes.
	for _, tc := range []struct {
		name       string
		call       func() error
		wantStatus int
		wantCode   string
	}{
		{"wrong secret", func() error { _, _, err := newClient("wrong").CreateUser(ctx, nil); return err }, 400, smile.CodeInvalidCredentials},
		{"unknown user", func() error { _, err := c.User(ctx, "nobody"); return err }, 404, smile.CodeMissingResource},
		{"token for unknown user", func() error { _, err := c.RefreshToken(ctx, "sandbox-00000000000000000000000000000000"); return err }, 404, smile.CodeMissingResource},
		{"revoked account", func() error { _, err := c.Account(ctx, acct.ID); return err }, 404, smile.CodeMissingResource},
		{"bad cursor", func() error { _, err := c.Accounts(ctx, user.ID, "nope", 0); return err }, 400, smile.CodeInvalidParameters},
		{"deleted webhook", func() error { return c.DeleteWebhook(ctx, hook.ID) }, 404, smile.CodeMissingResource},
		{"http webhook url", func() error {
			_, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "n", URL: "http://x.example", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"})
			return err
		}, 400, smile.CodeInvalidParameters},
	} {
		apiErr, ok := smile.AsAPIError(tc.call())
		if !ok || apiErr.HTTPStatus != tc.wantStatus || apiErr.Code != tc.wantCode {
			t.Errorf("%s: got %+v, want HTTP %d %s", tc.name, apiErr, tc.wantStatus, tc.wantCode)
		}
	}
	if status, body := raw(expectInvalidRequest(ctx), http.MethodGet, "/users?startDate=yesterday", ""); status != http.StatusBadRequest || !strings.Contains(body, smile.CodeInvalidParameters) {
		t.Errorf("bad startDate: got %d %s", status, body)
	}
	if status, _ := raw(expectInvalidRequest(ctx), http.MethodGet, "/users?size=151", ""); status != http.StatusBadRequest {
		t.Errorf("size 151: got %d, want 400", status)
	}

	want := []string{
		"create-token 201", "create-token 404",
		"create-user 201", "create-user 400",
		"create-webhook 200", "create-webhook 400",
		"delete-account 200",
		"delete-webhook 200", "delete-webhook 404",
		"get-account 200", "get-account 404",
		"get-user 200", "get-user 404",
		"get-webhook 200",
		"list-accounts 200", "list-accounts 400",
		"list-users 200", "list-users 400",
		"list-webhooks 200",
	}
	if got := spec.covered(); !slices.Equal(got, want) {
		t.Errorf("operations exercised over HTTP:\ngot  %q\nwant %q", got, want)
	}
}

// TestHTTPSandboxAPI_OnlyUnderItsBase: the sandbox answers Smile's paths only
// under its base URL, and Smile's 404 envelope for an unknown resource there.
func TestHTTPSandboxAPI_OnlyUnderItsBase(t *testing.T) {
	sim, err := sandbox.New(sandbox.Options{API: fakeapi.New(fakeapi.Options{APIKey: testKey, APISecret: testSecret}), Secret: []byte("s")})
	must(t, err)
	t.Cleanup(sim.Close)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	get := func(path string) (int, string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
		req.SetBasicAuth(testKey, testSecret)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get(sandbox.APIPath + "/payouts"); status != http.StatusNotFound || !strings.Contains(body, smile.CodeMissingResource) {
		t.Errorf("unknown resource: got %d %s", status, body)
	}
	if status, _ := get("/sandbox/users"); status != http.StatusNotFound {
		t.Errorf("outside the base: got %d, want 404", status)
	}
}
