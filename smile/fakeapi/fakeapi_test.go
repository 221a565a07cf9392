package fakeapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
)

const (
	testKey    = "sandbox-key"
	testSecret = "sandbox-secret"
	testBase   = "http://sandbox.smile.invalid/v1"
)

var (
	userIDPattern    = regexp.MustCompile(`^sandbox-[0-9a-f]{32}$`)
	accountIDPattern = regexp.MustCompile(`^a-[0-9a-f]{32}$`)
	tokenIDPattern   = regexp.MustCompile(`^tk-[0-9a-f]{32}$`)
	webhookIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	accessPattern    = regexp.MustCompile(`^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}$`)
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a fake server, a clock and a real client talking to it in-process
// through the spec-validating transport.
type env struct {
	srv    *fakeapi.Server
	clock  *clock
	spec   *specTransport
	client *smile.Client
}

func newEnv(t *testing.T, opts fakeapi.Options) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 5, 18, 9, 30, 24, 0, time.UTC)}}
	if opts.APIKey == "" {
		opts.APIKey, opts.APISecret = testKey, testSecret
	}
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	e.srv = fakeapi.New(opts)
	e.spec = newSpecTransport(t, fakeapi.Transport(e.srv))
	e.client = e.newClient(t, opts.APIKey, opts.APISecret)
	return e
}

func (e *env) newClient(t *testing.T, key, secret string) *smile.Client {
	t.Helper()
	c, err := smile.NewClient(smile.ClientConfig{
		BaseURL: testBase, APIKey: key, APISecret: secret,
		HTTPClient:        &http.Client{Transport: e.spec, Timeout: 5 * time.Second},
		RequestsPerSecond: -1,
		Sleep:             func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func (e *env) badAuthClient(t *testing.T) *smile.Client {
	return e.newClient(t, testKey, "wrong-secret")
}

// raw sends a hand-made request through the validating transport.
func (e *env) raw(t *testing.T, ctx context.Context, method, target, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, testBase+target, strings.NewReader(body))
	must(t, err)
	req.SetBasicAuth(testKey, testSecret)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: e.spec}).Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(b)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUsersAndTokens(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	user, tok, err := e.client.CreateUser(ctx, map[string]string{"ref": "42"})
	must(t, err)
	if !userIDPattern.MatchString(user.ID) {
		t.Errorf("got user id %q, want <tenant>-<32 hex>", user.ID)
	}
	if !tokenIDPattern.MatchString(tok.ID) || !accessPattern.MatchString(tok.AccessToken) {
		t.Errorf("got token id %q, access token %q; want tk-<32 hex> and three dot-separated segments", tok.ID, tok.AccessToken)
	}
	if want := e.clock.Now().Add(fakeapi.DefaultTokenTTL); !tok.ExpiresAt.Equal(want) || tok.Mode != smile.ModeSandbox {
		t.Errorf("got expiry %v mode %q, want %v SANDBOX", tok.ExpiresAt, tok.Mode, want)
	}
	if !reflect.DeepEqual(user.ExternalMetadata, map[string]string{"ref": "42"}) || !user.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("got user %+v, want metadata ref=42 created now", user)
	}
	if id, ok := e.srv.TokenValid(tok.AccessToken); !ok || id != user.ID {
		t.Errorf("TokenValid(new token): got %q %v, want %q true", id, ok, user.ID)
	}

	got, err := e.client.User(ctx, user.ID)
	must(t, err)
	if !reflect.DeepEqual(got, user) {
		t.Errorf("GET user: got %+v, want %+v", got, user)
	}
	if n := e.srv.Users(); n != 1 {
		t.Errorf("got %d users, want 1", n)
	}

	e.clock.Advance(fakeapi.DefaultTokenTTL)
	if _, ok := e.srv.TokenValid(tok.AccessToken); ok {
		t.Errorf("TokenValid(token at its expiry): got true, want false")
	}
	fresh, err := e.client.RefreshToken(ctx, user.ID)
	must(t, err)
	if fresh.AccessToken == tok.AccessToken || fresh.ID == tok.ID {
		t.Errorf("refresh returned the old token %q", tok.AccessToken)
	}
	if id, ok := e.srv.TokenValid(fresh.AccessToken); !ok || id != user.ID {
		t.Errorf("TokenValid(refreshed): got %q %v, want %q true", id, ok, user.ID)
	}
	e.srv.ExpireToken(fresh.AccessToken)
	if _, ok := e.srv.TokenValid(fresh.AccessToken); ok {
		t.Errorf("TokenValid(expired by hand): got true, want false")
	}
	e.srv.ExpireToken("unknown") // must not panic
	if _, ok := e.srv.TokenValid("a.b.c"); ok {
		t.Errorf("TokenValid(unknown): got true, want false")
	}

	_, err = e.client.RefreshToken(ctx, "sandbox-ffffffffffffffffffffffffffffffff")
	if !smile.IsNotFound(err) {
		t.Errorf("refresh for unknown user: got %v, want 404", err)
	}
	_, err = e.client.User(ctx, "sandbox-ffffffffffffffffffffffffffffffff")
	if !smile.IsNotFound(err) {
		t.Errorf("GET unknown user: got %v, want 404", err)
	}
}

func TestOptions(t *testing.T) {
	e := newEnv(t, fakeapi.Options{TenantID: "acme", Mode: smile.ModeProduction, TokenTTL: time.Minute})
	user, tok, err := e.client.CreateUser(t.Context(), nil)
	must(t, err)
	if !strings.HasPrefix(user.ID, "acme-") || tok.Mode != smile.ModeProduction {
		t.Errorf("got user %q mode %q, want acme-… PRODUCTION", user.ID, tok.Mode)
	}
	if got, want := tok.ExpiresAt.Sub(e.clock.Now()), time.Minute; got != want {
		t.Errorf("got TTL %v, want %v", got, want)
	}
	if user.ExternalMetadata == nil || user.Providers == nil {
		t.Errorf("got nil metadata or providers in %+v, want empty values", user)
	}
}

func TestAccountsPagination(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	user, _, err := e.client.CreateUser(ctx, nil)
	must(t, err)
	other, _, err := e.client.CreateUser(ctx, nil)
	must(t, err)
	const total = 161
	for i := range total {
		_, err := e.srv.AddAccount(user.ID, fmt.Sprintf("provider-%03d", i), smile.ConnectionConnected, nil)
		must(t, err)
		if i%40 == 0 {
			_, err := e.srv.AddAccount(other.ID, fmt.Sprintf("provider-%03d", i), smile.ConnectionPending, nil)
			must(t, err)
		}
	}

	first, err := e.client.Accounts(ctx, user.ID, "", smile.MaxPageSize)
	must(t, err)
	if len(first.Items) != smile.MaxPageSize || first.NextCursor == "" {
		t.Fatalf("first page: got %d items, cursor %q; want 150 and a cursor", len(first.Items), first.NextCursor)
	}
	second, err := e.client.Accounts(ctx, user.ID, first.NextCursor, smile.MaxPageSize)
	must(t, err)
	if len(second.Items) != total-smile.MaxPageSize || second.NextCursor != "" {
		t.Errorf("second page: got %d items, cursor %q; want 11 and none", len(second.Items), second.NextCursor)
	}
	all, err := e.client.AllAccounts(ctx, user.ID)
	must(t, err)
	if want := e.srv.Accounts(user.ID); !reflect.DeepEqual(all, want) {
		t.Errorf("AllAccounts: got %d accounts, want the server's %d in order", len(all), len(want))
	}
	if got := append(first.Items, second.Items...); !reflect.DeepEqual(got, all) {
		t.Errorf("pages do not add up to AllAccounts")
	}
	for i, a := range all {
		if want := fmt.Sprintf("provider-%03d", i); a.ProviderID != want || a.UserID != user.ID || !accountIDPattern.MatchString(a.ID) {
			t.Fatalf("account %d: got %+v, want provider %s of %s with an a-<32 hex> id", i, a, want, user.ID)
		}
	}

	tests := []struct {
		name, userID string
		size         int
		wantItems    int
		wantMore     bool
	}{
		{"default size is 10", user.ID, 0, 10, true},
		{"other user only", other.ID, 0, 5, false},
		{"unknown user is empty", "sandbox-00000000000000000000000000000000", 0, 0, false},
		{"whole tenant", "", smile.MaxPageSize, smile.MaxPageSize, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := e.client.Accounts(ctx, tc.userID, "", tc.size)
			must(t, err)
			if len(page.Items) != tc.wantItems || (page.NextCursor != "") != tc.wantMore {
				t.Errorf("got %d items, cursor %q; want %d, more %v", len(page.Items), page.NextCursor, tc.wantItems, tc.wantMore)
			}
		})
	}
	webhookCursor := func() string {
		for range 2 {
			_, err := e.client.CreateWebhook(ctx, smile.WebhookRequest{Name: "n", URL: "https://x.example", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"})
			must(t, err)
		}
		p, err := e.client.Webhooks(ctx, "", 1)
		must(t, err)
		return p.NextCursor
	}()
	if _, err := e.client.Accounts(ctx, user.ID, webhookCursor, 0); !smile.IsInvalidParameters(err) {
		t.Errorf("webhook cursor on accounts: got %v, want 400 INVALID_PARAMETERS", err)
	}
}

func TestAccountLifecycle(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	user, _, err := e.client.CreateUser(ctx, nil)
	must(t, err)
	created := e.clock.Now()

	pending, err := e.srv.AddAccount(user.ID, "grab", smile.ConnectionPending, nil)
	must(t, err)
	got, err := e.client.Account(ctx, pending.ID)
	must(t, err)
	if !reflect.DeepEqual(got, pending) || got.ConnectionStatus != smile.ConnectionPending || got.Connection.ErrorCode != nil ||
		got.MonitorStatus != smile.MonitorUnsupported || !got.CreatedAt.Equal(created) {
		t.Errorf("got %+v, want the PENDING account %+v", got, pending)
	}

	e.clock.Advance(time.Minute)
	must(t, e.srv.SetAccountStatus(pending.ID, smile.ConnectionError, ptr("INVALID_CREDENTIALS"), nil))
	got, err = e.client.Account(ctx, pending.ID)
	must(t, err)
	if got.ConnectionStatus != smile.ConnectionError || got.Connection.ErrorCode == nil || *got.Connection.ErrorCode != "INVALID_CREDENTIALS" ||
		got.Connection.ErrorMessage == nil || *got.Connection.ErrorMessage == "" || !got.Connection.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("after ERROR: got %+v, want ERROR INVALID_CREDENTIALS with a message, updated now", got)
	}

	again, err := e.srv.AddAccount(user.ID, "grab", smile.ConnectionConnected, nil)
	must(t, err)
	if again.ID != pending.ID || again.Connection.ErrorCode != nil || again.Connection.ErrorMessage != nil {
		t.Errorf("re-adding grab: got %+v, want account %s CONNECTED without error", again, pending.ID)
	}
	u, err := e.client.User(ctx, user.ID)
	must(t, err)
	if !reflect.DeepEqual(u.Providers, []string{"grab"}) {
		t.Errorf("got providers %v, want [grab]", u.Providers)
	}

	must(t, e.client.RevokeAccount(ctx, pending.ID))
	if _, err := e.client.Account(ctx, pending.ID); !smile.IsNotFound(err) {
		t.Errorf("GET revoked account: got %v, want 404", err)
	}
	if err := e.client.RevokeAccount(ctx, pending.ID); !smile.IsNotFound(err) {
		t.Errorf("revoke twice: got %v, want 404", err)
	}
	if err := e.srv.SetAccountStatus(pending.ID, smile.ConnectionConnected, nil, nil); !errors.Is(err, fakeapi.ErrNotFound) {
		t.Errorf("SetAccountStatus on revoked: got %v, want ErrNotFound", err)
	}
	if n := len(e.srv.Accounts(user.ID)); n != 0 {
		t.Errorf("got %d accounts after revoke, want 0", n)
	}
}

func TestDriverRejectsBadInput(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	user, _, err := e.client.CreateUser(t.Context(), nil)
	must(t, err)
	acct, err := e.srv.AddAccount(user.ID, "grab", smile.ConnectionPending, nil)
	must(t, err)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unknown user", func() error { _, err := e.srv.AddAccount("nobody", "grab", "PENDING", nil); return err }(), fakeapi.ErrNotFound},
		{"empty provider", func() error { _, err := e.srv.AddAccount(user.ID, "", "PENDING", nil); return err }(), fakeapi.ErrInvalid},
		{"unknown status", func() error { _, err := e.srv.AddAccount(user.ID, "grab", "LINKED", nil); return err }(), fakeapi.ErrInvalid},
		{"error code with CONNECTED", func() error {
			_, err := e.srv.AddAccount(user.ID, "grab", "CONNECTED", ptr("MFA_TIMEOUT"))
			return err
		}(), fakeapi.ErrInvalid},
		{"unknown error code", e.srv.SetAccountStatus(acct.ID, "ERROR", ptr("OOPS"), nil), fakeapi.ErrInvalid},
		{"message without ERROR", e.srv.SetAccountStatus(acct.ID, "CONNECTED", nil, ptr("x")), fakeapi.ErrInvalid},
		{"unknown account", e.srv.SetAccountStatus("a-0", "CONNECTED", nil, nil), fakeapi.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
	must(t, e.srv.SetAccountStatus(acct.ID, "ERROR", nil, nil)) // Smile allows a null errorCode
}

func TestWebhooks(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	req := smile.WebhookRequest{Name: "go-server", URL: "https://hooks.example.com/smile", EventTypes: []string{"ALL_EVENTS"},
		Active: true, Secret: strings.Repeat("s", 64), IncludePayload: true}
	hook, err := e.client.CreateWebhook(ctx, req)
	must(t, err)
	now := e.clock.Now()
	want := smile.Webhook{ID: hook.ID, CreatedAt: now, Name: req.Name, URL: req.URL, Secret: req.Secret,
		EventTypes: req.EventTypes, Active: true, IncludePayload: true, UpdatedAt: now}
	if !reflect.DeepEqual(hook, want) || !webhookIDPattern.MatchString(hook.ID) {
		t.Errorf("got %+v, want %+v with a 32-hex id", hook, want)
	}
	second, err := e.client.CreateWebhook(ctx, smile.WebhookRequest{Name: "b", URL: "https://b.example", EventTypes: []string{"ACCOUNT_CONNECTED"}, Active: false, Secret: "x"})
	must(t, err)

	page, err := e.client.Webhooks(ctx, "", 1)
	must(t, err)
	rest, err := e.client.Webhooks(ctx, page.NextCursor, 1)
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].ID != hook.ID || len(rest.Items) != 1 || rest.Items[0].ID != second.ID || rest.NextCursor != "" {
		t.Errorf("got pages %+v and %+v, want one webhook each, in creation order", page, rest)
	}
	got, err := e.client.Webhook(ctx, hook.ID)
	must(t, err)
	if !reflect.DeepEqual(got, hook) {
		t.Errorf("GET webhook: got %+v, want %+v", got, hook)
	}
	must(t, e.client.DeleteWebhook(ctx, hook.ID))
	if _, err := e.client.Webhook(ctx, hook.ID); !smile.IsNotFound(err) {
		t.Errorf("GET deleted webhook: got %v, want 404", err)
	}
	if err := e.client.DeleteWebhook(ctx, hook.ID); !smile.IsNotFound(err) {
		t.Errorf("delete twice: got %v, want 404", err)
	}
	if hooks := e.srv.Webhooks(); len(hooks) != 1 || hooks[0].ID != second.ID {
		t.Errorf("got %+v, want only the second webhook", hooks)
	}
}

func TestCreateWebhookInvalid(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	valid := smile.WebhookRequest{Name: "n", URL: "https://hooks.example.com", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"}
	tests := []struct {
		name        string
		edit        func(*smile.WebhookRequest)
		specInvalid bool // the spec itself forbids the request
	}{
		{"http url", func(r *smile.WebhookRequest) { r.URL = "http://hooks.example.com" }, false},
		{"url without host", func(r *smile.WebhookRequest) { r.URL = "https://" }, false},
		{"secret of 65 chars", func(r *smile.WebhookRequest) { r.Secret = strings.Repeat("s", 65) }, true},
		{"empty secret", func(r *smile.WebhookRequest) { r.Secret = "" }, true},
		{"empty name", func(r *smile.WebhookRequest) { r.Name = "" }, true},
		{"url of 501 chars", func(r *smile.WebhookRequest) { r.URL = "https://x.example/" + strings.Repeat("p", 483) }, true},
		{"no event types", func(r *smile.WebhookRequest) { r.EventTypes = nil }, false},
		{"unknown event type", func(r *smile.WebhookRequest) { r.EventTypes = []string{"PAYOUT_SENT"} }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := valid
			tc.edit(&req)
			ctx := t.Context()
			if tc.specInvalid {
				ctx = expectInvalidRequest(ctx)
			}
			_, err := e.client.CreateWebhook(ctx, req)
			if !smile.IsInvalidParameters(err) {
				t.Errorf("got %v, want 400 INVALID_PARAMETERS", err)
			}
		})
	}
	if n := len(e.srv.Webhooks()); n != 0 {
		t.Errorf("got %d webhooks, want 0", n)
	}
}

func TestBadAuth(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	for _, c := range []*smile.Client{e.badAuthClient(t), e.newClient(t, "other-key", testSecret)} {
		_, _, err := c.CreateUser(t.Context(), nil)
		apiErr, ok := smile.AsAPIError(err)
		// smile-api.md §4.2: bad credentials are HTTP 400 INVALID_CREDENTIALS.
		if !ok || apiErr.HTTPStatus != http.StatusBadRequest || apiErr.Code != smile.CodeInvalidCredentials || apiErr.RequestID == "" {
			t.Errorf("got %v, want HTTP 400 INVALID_CREDENTIALS with a request id", err)
		}
		if !smile.IsInvalidCredentials(err) {
			t.Errorf("IsInvalidCredentials(%v): got false, want true", err)
		}
	}
	if n := e.srv.Users(); n != 0 {
		t.Errorf("got %d users, want 0", n)
	}
	req, err := http.NewRequestWithContext(expectInvalidRequest(t.Context()), http.MethodGet, testBase+"/webhooks", nil)
	must(t, err)
	resp, err := (&http.Client{Transport: e.spec}).Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no credentials: got HTTP %d, want 400", resp.StatusCode)
	}
}

func TestAnyCredentialsWhenNoKeyConfigured(t *testing.T) {
	srv := fakeapi.New(fakeapi.Options{})
	c, err := smile.NewClient(smile.ClientConfig{BaseURL: testBase, APIKey: "whatever", APISecret: "x",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(srv)}})
	must(t, err)
	if _, _, err := c.CreateUser(t.Context(), nil); err != nil {
		t.Errorf("got %v, want success", err)
	}
}

// TestRawRequests covers input the client never sends, still through the
// validating transport.
func TestRawRequests(t *testing.T) {
	e := newEnv(t, fakeapi.Options{})
	six := `{"externalMetadata":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6"}}`
	tests := []struct {
		name, method, target, contentType, body string
		specInvalid                             bool
		wantStatus                              int
		wantCode                                string
	}{
		{"six metadata pairs", "POST", "/users", "application/json", six, true, 400, "INVALID_PARAMETERS"},
		{"non-ASCII metadata", "POST", "/users", "application/json", `{"externalMetadata":{"name":"José"}}`, false, 400, "INVALID_PARAMETERS"},
		{"metadata value not a string", "POST", "/users", "application/json", `{"externalMetadata":{"n":1}}`, true, 400, "INVALID_PARAMETERS"},
		{"malformed JSON", "POST", "/users", "application/json", `{"externalMetadata":`, true, 400, "INVALID_PARAMETERS"},
		{"empty body", "POST", "/users", "", "", false, 201, "OK"},
		{"charset parameter", "POST", "/users", "application/json; charset=utf-8", `{}`, false, 201, "OK"},
		{"text body", "POST", "/webhooks", "text/plain", `name=x`, true, 415, "UNSUPPORTED_TYPE"},
		{"size 0", "GET", "/accounts?size=0", "", "", true, 400, "INVALID_PARAMETERS"},
		{"size not a number", "GET", "/webhooks?size=ten", "", "", true, 400, "INVALID_PARAMETERS"},
		{"tokens without userId", "POST", "/tokens", "", "", true, 400, "INVALID_PARAMETERS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.specInvalid {
				ctx = expectInvalidRequest(ctx)
			}
			status, body := e.raw(t, ctx, tc.method, tc.target, tc.contentType, tc.body)
			if status != tc.wantStatus || !strings.Contains(body, `"code":"`+tc.wantCode+`"`) {
				t.Errorf("got HTTP %d %s, want %d %s", status, body, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

// TestRouting covers paths outside the spec, so it bypasses the validator.
func TestRouting(t *testing.T) {
	srv := fakeapi.New(fakeapi.Options{APIKey: testKey, APISecret: testSecret})
	hc := &http.Client{Transport: fakeapi.Transport(srv)}
	tests := []struct {
		name, method, url string
		wantStatus        int
		wantCode          string
	}{
		{"mounted without /v1", "GET", "http://fake/webhooks", 200, "OK"},
		{"mounted under /v1", "GET", "http://fake/v1/webhooks", 200, "OK"},
		{"unknown resource", "GET", "http://fake/v1/payouts", 404, "MISSING_RESOURCE"},
		{"too deep", "GET", "http://fake/v1/accounts/a-1/payload", 404, "MISSING_RESOURCE"},
		{"root", "GET", "http://fake/v1", 404, "MISSING_RESOURCE"},
		{"wrong method", "PUT", "http://fake/v1/webhooks/x", 501, "UNSUPPORTED_METHOD"},
		{"encoded slash in id", "GET", "http://fake/v1/users/a%2Fb", 404, "MISSING_RESOURCE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, tc.url, nil)
			must(t, err)
			req.SetBasicAuth(testKey, testSecret)
			resp, err := hc.Do(req)
			must(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(b), `"code":"`+tc.wantCode+`"`) {
				t.Errorf("got HTTP %d %s, want %d %s", resp.StatusCode, b, tc.wantStatus, tc.wantCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", ct)
			}
		})
	}
}

func TestTransport(t *testing.T) {
	t.Run("panic becomes a transport error", func(t *testing.T) {
		hc := &http.Client{Transport: fakeapi.Transport(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))}
		_, err := hc.Get("http://x/")
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("got %v, want an error mentioning the panic", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/", nil)
		_, err := (&http.Client{Transport: fakeapi.Transport(http.NotFoundHandler())}).Do(req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("server-side view of the request", func(t *testing.T) {
		var got *http.Request
		var body string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r
			b, _ := io.ReadAll(r.Body)
			body = string(b)
			w.Header().Set("X-Test", "1")
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "short")
			w.Header().Set("X-Late", "ignored")
		})
		resp, err := (&http.Client{Transport: fakeapi.Transport(h)}).Post("http://host.invalid/v1/p?q=1", "text/plain", strings.NewReader("hello"))
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if got.Host != "host.invalid" || got.RequestURI != "/v1/p?q=1" || got.URL.Host != "" || body != "hello" || got.ContentLength != 5 {
			t.Errorf("handler saw host %q URI %q URL host %q body %q length %d", got.Host, got.RequestURI, got.URL.Host, body, got.ContentLength)
		}
		if resp.StatusCode != http.StatusTeapot || string(b) != "short" || resp.Header.Get("X-Test") != "1" || resp.Header.Get("X-Late") != "" {
			t.Errorf("got %d %q headers %v", resp.StatusCode, b, resp.Header)
		}
	})
}

// TestConcurrentUse hammers one server from many goroutines; run with -race.
func TestConcurrentUse(t *testing.T) {
	srv := fakeapi.New(fakeapi.Options{APIKey: testKey, APISecret: testSecret})
	c, err := smile.NewClient(smile.ClientConfig{BaseURL: testBase, APIKey: testKey, APISecret: testSecret,
		HTTPClient: &http.Client{Transport: fakeapi.Transport(srv)}, RequestsPerSecond: -1})
	must(t, err)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 16 {
		wg.Go(func() {
			user, tok, err := c.CreateUser(ctx, nil)
			if err != nil {
				errs <- err
				return
			}
			for j := range 5 {
				a, err := srv.AddAccount(user.ID, fmt.Sprintf("p%d", j), smile.ConnectionConnected, nil)
				if err != nil {
					errs <- err
					return
				}
				if _, err := c.Account(ctx, a.ID); err != nil {
					errs <- err
				}
			}
			if _, ok := srv.TokenValid(tok.AccessToken); !ok {
				errs <- fmt.Errorf("token of worker %d invalid", i)
			}
			if all, err := c.AllAccounts(ctx, user.ID); err != nil || len(all) != 5 {
				errs <- fmt.Errorf("worker %d: got %d accounts, err %v; want 5", i, len(all), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Users(); n != 16 {
		t.Errorf("got %d users, want 16", n)
	}
}

func TestRefreshToken_AdoptsUnknownSandboxUser(t *testing.T) {
	ctx := context.Background()
	for _, adopt := range []bool{false, true} {
		srv := fakeapi.New(fakeapi.Options{TenantID: "sandbox", AdoptUnknownUsers: adopt})
		client, err := smile.NewClient(smile.ClientConfig{
			BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "k", APISecret: "s",
			HTTPClient: &http.Client{Transport: fakeapi.Transport(srv)}, MaxRetries: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.RefreshToken(ctx, "sandbox-0123456789abcdef0123456789abcdef")
		if adopt && err != nil {
			t.Errorf("adopting: got %v, want a token for the remembered user", err)
		}
		if !adopt && !smile.IsNotFound(err) {
			t.Errorf("not adopting: got %v, want not found", err)
		}
		if _, err := client.RefreshToken(ctx, "othertenant-0123"); !smile.IsNotFound(err) {
			t.Errorf("foreign tenant: got %v, want not found", err)
		}
	}
}
