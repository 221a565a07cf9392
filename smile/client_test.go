package smile

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

const (
	testKey    = "key-123"
	testSecret = "s3cret:with:colons"
)

// captured is what the test server saw of one request.
type captured struct {
	Method, Path, Auth, Accept, ContentType string
	Query                                   url.Values
	Body                                    string
}

// cannedServer answers every request with the next of responses (the last one
// repeats) and records what it saw.
type cannedServer struct {
	t         *testing.T
	mu        sync.Mutex
	responses []canned
	seen      []captured
	srv       *httptest.Server
}

type canned struct {
	status int
	body   string
	header map[string]string
}

func newCannedServer(t *testing.T, responses ...canned) *cannedServer {
	t.Helper()
	s := &cannedServer{t: t, responses: responses}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *cannedServer) serve(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("read body: %v", err)
	}
	s.mu.Lock()
	s.seen = append(s.seen, captured{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: string(b),
		Auth: r.Header.Get("Authorization"), Accept: r.Header.Get("Accept"), ContentType: r.Header.Get("Content-Type"),
	})
	resp := s.responses[min(len(s.seen), len(s.responses))-1]
	s.mu.Unlock()
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	if resp.header["Content-Type"] == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

func (s *cannedServer) requests() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.seen...)
}

// sleepRecorder is a Sleep that returns at once and remembers the waits.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, d)
	return ctx.Err()
}

func newTestClient(t *testing.T, baseURL string, edit func(*ClientConfig)) (*Client, *sleepRecorder) {
	t.Helper()
	sr := &sleepRecorder{}
	cfg := ClientConfig{BaseURL: baseURL + "/v1", APIKey: testKey, APISecret: testSecret, RequestsPerSecond: -1, Sleep: sr.sleep}
	if edit != nil {
		edit(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, sr
}

func ok(data string) canned {
	return canned{status: http.StatusOK, body: `{"code":"OK","message":"Success","requestId":"req-1","data":` + data + `}`}
}

func created(data string) canned {
	c := ok(data)
	c.status = http.StatusCreated
	return c
}

const (
	userJSON  = `{"id":"t-0123456789abcdef0123456789abcdef","externalMetadata":{"ref":"42"},"createdAt":"2021-04-14T09:30:24Z","providers":["grab"]}`
	tokenJSON = `{"id":"tk-1","accessToken":"aaa.bbb.ccc","expiresAt":"2021-04-14T10:00:24Z","mode":"SANDBOX"}`
	acctJSON  = `{"id":"a-1","createdAt":"2021-04-14T09:30:24Z","providerId":"grab","userId":"u-1","connectionStatus":"ERROR",` +
		`"connection":{"status":"ERROR","errorCode":"ACCOUNT_LOCKED","errorMessage":"locked","updatedAt":"2021-04-14T09:31:00Z"},` +
		`"monitorStatus":"UNSUPPORTED","monitor":{"status":"UNSUPPORTED","updatedAt":null}}`
	hookJSON = `{"id":"17bbf36498de4d68a0d4f86c7b62f69f","createdAt":"2021-04-14T09:30:24Z","name":"n","url":"https://h.example/x",` +
		`"secret":"s","eventTypes":["ALL_EVENTS"],"active":true,"includePayload":false,"updatedAt":"2021-04-14T09:30:24Z"}`
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestClientOperations(t *testing.T) {
	wantUser := User{ID: "t-0123456789abcdef0123456789abcdef", ExternalMetadata: map[string]string{"ref": "42"},
		CreatedAt: ts("2021-04-14T09:30:24Z"), Providers: []string{"grab"}}
	wantToken := Token{ID: "tk-1", AccessToken: "aaa.bbb.ccc", ExpiresAt: ts("2021-04-14T10:00:24Z"), Mode: "SANDBOX"}
	locked, lockedMsg := "ACCOUNT_LOCKED", "locked"
	wantAccount := Account{ID: "a-1", CreatedAt: ts("2021-04-14T09:30:24Z"), ProviderID: "grab", UserID: "u-1",
		ConnectionStatus: "ERROR", Connection: AccountConnection{Status: "ERROR", ErrorCode: &locked, ErrorMessage: &lockedMsg,
			UpdatedAt: ts("2021-04-14T09:31:00Z")}, MonitorStatus: "UNSUPPORTED", Monitor: AccountMonitor{Status: "UNSUPPORTED"}}
	wantHook := Webhook{ID: "17bbf36498de4d68a0d4f86c7b62f69f", CreatedAt: ts("2021-04-14T09:30:24Z"), Name: "n",
		URL: "https://h.example/x", Secret: "s", EventTypes: []string{"ALL_EVENTS"}, Active: true, UpdatedAt: ts("2021-04-14T09:30:24Z")}
	type result struct {
		User    User
		Token   Token
		Account Account
		Pages   any
		Webhook Webhook
	}
	tests := []struct {
		name     string
		call     func(context.Context, *Client) (result, error)
		respond  canned
		want     captured // Auth and Accept are checked for every case
		wantBody string   // JSON, compared semantically; "" means no body
		wantOut  result
	}{
		{
			name: "create user",
			call: func(ctx context.Context, c *Client) (result, error) {
				u, tok, err := c.CreateUser(ctx, map[string]string{"ref": "42"})
				return result{User: u, Token: tok}, err
			},
			respond:  created(`{"user":` + userJSON + `,"token":` + tokenJSON + `}`),
			want:     captured{Method: "POST", Path: "/v1/users"},
			wantBody: `{"externalMetadata":{"ref":"42"}}`,
			wantOut:  result{User: wantUser, Token: wantToken},
		},
		{
			name: "create user without metadata sends {}",
			call: func(ctx context.Context, c *Client) (result, error) {
				u, tok, err := c.CreateUser(ctx, nil)
				return result{User: u, Token: tok}, err
			},
			respond:  created(`{"user":` + userJSON + `,"token":` + tokenJSON + `}`),
			want:     captured{Method: "POST", Path: "/v1/users"},
			wantBody: `{}`,
			wantOut:  result{User: wantUser, Token: wantToken},
		},
		{
			name: "refresh token",
			call: func(ctx context.Context, c *Client) (result, error) {
				tok, err := c.RefreshToken(ctx, "t-1 2")
				return result{Token: tok}, err
			},
			respond: created(tokenJSON),
			want:    captured{Method: "POST", Path: "/v1/tokens", Query: url.Values{"userId": {"t-1 2"}}},
			wantOut: result{Token: wantToken},
		},
		{
			name: "get user escapes the id",
			call: func(ctx context.Context, c *Client) (result, error) {
				u, err := c.User(ctx, "t/1")
				return result{User: u}, err
			},
			respond: ok(userJSON),
			want:    captured{Method: "GET", Path: "/v1/users/t%2F1"},
			wantOut: result{User: wantUser},
		},
		{
			name: "list accounts",
			call: func(ctx context.Context, c *Client) (result, error) {
				p, err := c.Accounts(ctx, "u-1", "cur", 25)
				return result{Pages: p}, err
			},
			respond: ok(`{"nextCursor":"next","items":[` + acctJSON + `]}`),
			want:    captured{Method: "GET", Path: "/v1/accounts", Query: url.Values{"userId": {"u-1"}, "cursor": {"cur"}, "size": {"25"}}},
			wantOut: result{Pages: AccountPage{Items: []Account{wantAccount}, NextCursor: "next"}},
		},
		{
			name: "list accounts, defaults, last page",
			call: func(ctx context.Context, c *Client) (result, error) {
				p, err := c.Accounts(ctx, "", "", 0)
				return result{Pages: p}, err
			},
			respond: ok(`{"nextCursor":null,"items":[]}`),
			want:    captured{Method: "GET", Path: "/v1/accounts", Query: url.Values{}},
			wantOut: result{Pages: AccountPage{Items: []Account{}}},
		},
		{
			name: "get account",
			call: func(ctx context.Context, c *Client) (result, error) {
				a, err := c.Account(ctx, "a-1")
				return result{Account: a}, err
			},
			respond: ok(acctJSON),
			want:    captured{Method: "GET", Path: "/v1/accounts/a-1"},
			wantOut: result{Account: wantAccount},
		},
		{
			name: "revoke account",
			call: func(ctx context.Context, c *Client) (result, error) {
				return result{}, c.RevokeAccount(ctx, "a-1")
			},
			respond: canned{status: 200, body: `{"code":"OK","message":"Success","requestId":"r"}`},
			want:    captured{Method: "DELETE", Path: "/v1/accounts/a-1"},
		},
		{
			name: "create webhook",
			call: func(ctx context.Context, c *Client) (result, error) {
				w, err := c.CreateWebhook(ctx, WebhookRequest{Name: "n", URL: "https://h.example/x",
					EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"})
				return result{Webhook: w}, err
			},
			respond: ok(hookJSON),
			want:    captured{Method: "POST", Path: "/v1/webhooks"},
			wantBody: `{"name":"n","url":"https://h.example/x","eventTypes":["ALL_EVENTS"],"active":true,` +
				`"secret":"s","includePayload":false}`,
			wantOut: result{Webhook: wantHook},
		},
		{
			name: "list webhooks",
			call: func(ctx context.Context, c *Client) (result, error) {
				p, err := c.Webhooks(ctx, "c1", 150)
				return result{Pages: p}, err
			},
			respond: ok(`{"nextCursor":null,"items":[` + hookJSON + `]}`),
			want:    captured{Method: "GET", Path: "/v1/webhooks", Query: url.Values{"cursor": {"c1"}, "size": {"150"}}},
			wantOut: result{Pages: WebhookPage{Items: []Webhook{wantHook}}},
		},
		{
			name: "get webhook",
			call: func(ctx context.Context, c *Client) (result, error) {
				w, err := c.Webhook(ctx, "17bbf36498de4d68a0d4f86c7b62f69f")
				return result{Webhook: w}, err
			},
			respond: ok(hookJSON),
			want:    captured{Method: "GET", Path: "/v1/webhooks/17bbf36498de4d68a0d4f86c7b62f69f"},
			wantOut: result{Webhook: wantHook},
		},
		{
			name: "delete webhook",
			call: func(ctx context.Context, c *Client) (result, error) {
				return result{}, c.DeleteWebhook(ctx, "w1")
			},
			respond: canned{status: 200, body: `{"code":"OK","message":"Success","requestId":"r"}`},
			want:    captured{Method: "DELETE", Path: "/v1/webhooks/w1"},
		},
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":"+testSecret))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCannedServer(t, tc.respond)
			c, _ := newTestClient(t, srv.srv.URL, nil)
			got, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call: got error %v, want nil", err)
			}
			if !reflect.DeepEqual(got, tc.wantOut) {
				t.Errorf("result:\ngot  %+v\nwant %+v", got, tc.wantOut)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Auth != wantAuth || r.Accept != "application/json" {
				t.Errorf("got Authorization %q, Accept %q; want %q, application/json", r.Auth, r.Accept, wantAuth)
			}
			if r.Method != tc.want.Method || r.Path != tc.want.Path {
				t.Errorf("got %s %s, want %s %s", r.Method, r.Path, tc.want.Method, tc.want.Path)
			}
			if tc.want.Query == nil {
				tc.want.Query = url.Values{}
			}
			if !reflect.DeepEqual(r.Query, tc.want.Query) {
				t.Errorf("got query %v, want %v", r.Query, tc.want.Query)
			}
			checkBody(t, r, tc.wantBody)
		})
	}
}

func checkBody(t *testing.T, r captured, want string) {
	t.Helper()
	if want == "" {
		if r.Body != "" || r.ContentType != "" {
			t.Errorf("got body %q (Content-Type %q), want none", r.Body, r.ContentType)
		}
		return
	}
	if r.ContentType != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", r.ContentType)
	}
	var got, exp any
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatalf("request body %q: %v", r.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want body %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("got body %s, want %s", r.Body, want)
	}
}

func TestClientAPIErrors(t *testing.T) {
	tests := []struct {
		name      string
		respond   canned
		want      APIError
		predicate func(error) bool
	}{
		{
			name:      "404 missing resource",
			respond:   canned{status: 404, body: `{"code":"MISSING_RESOURCE","message":"Account not found","requestId":"rid-404"}`},
			want:      APIError{HTTPStatus: 404, Code: "MISSING_RESOURCE", Message: "Account not found", RequestID: "rid-404"},
			predicate: IsNotFound,
		},
		{
			name:      "400 invalid parameters",
			respond:   canned{status: 400, body: `{"code":"INVALID_PARAMETERS","message":"size is bad","requestId":"rid-400"}`},
			want:      APIError{HTTPStatus: 400, Code: "INVALID_PARAMETERS", Message: "size is bad", RequestID: "rid-400"},
			predicate: IsInvalidParameters,
		},
		{
			name:      "400 invalid credentials",
			respond:   canned{status: 400, body: `{"code":"INVALID_CREDENTIALS","message":"bad key","requestId":"rid-cred"}`},
			want:      APIError{HTTPStatus: 400, Code: "INVALID_CREDENTIALS", Message: "bad key", RequestID: "rid-cred"},
			predicate: IsInvalidCredentials,
		},
		{
			name: "non-JSON 502 from a proxy",
			respond: canned{status: 502, body: "<html>\n<body>upstream   down</body></html>",
				header: map[string]string{"Content-Type": "text/html"}},
			want:      APIError{HTTPStatus: 502, Message: "Bad Gateway: <html> <body>upstream down</body></html>"},
			predicate: IsServerError,
		},
		{
			name:      "empty 500",
			respond:   canned{status: 500},
			want:      APIError{HTTPStatus: 500, Message: "Internal Server Error"},
			predicate: IsServerError,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCannedServer(t, tc.respond)
			c, _ := newTestClient(t, srv.srv.URL, func(cfg *ClientConfig) { cfg.MaxRetries = -1 })
			_, err := c.Account(t.Context(), "a-1")
			apiErr, ok := AsAPIError(err)
			if !ok {
				t.Fatalf("got error %v (%T), want *APIError", err, err)
			}
			tc.want.Method, tc.want.Path = "GET", "/accounts/a-1"
			if *apiErr != tc.want {
				t.Errorf("got %+v, want %+v", *apiErr, tc.want)
			}
			if !tc.predicate(err) {
				t.Errorf("predicate on %v: got false, want true", err)
			}
			if IsNotFound(err) != (tc.want.HTTPStatus == 404) {
				t.Errorf("IsNotFound(%v): got %v", err, IsNotFound(err))
			}
			if tc.want.RequestID != "" && !strings.Contains(err.Error(), tc.want.RequestID) {
				t.Errorf("error %q lacks request id %q", err, tc.want.RequestID)
			}
		})
	}
}

func TestClientRetries(t *testing.T) {
	const (
		rateLimited = `{"code":"REQUEST_LIMIT_EXCEEDED","message":"slow down","requestId":"r"}`
		unavailable = `{"code":"SERVER_UNAVAILABLE","message":"maintenance","requestId":"r"}`
		serverError = `{"code":"SERVER_ERROR","message":"boom","requestId":"r"}`
		missing     = `{"code":"MISSING_RESOURCE","message":"gone","requestId":"r"}`
		badParams   = `{"code":"INVALID_PARAMETERS","message":"bad","requestId":"r"}`
		deleted     = `{"code":"OK","message":"Success","requestId":"r"}`
	)
	getAccount := func(ctx context.Context, c *Client) error { _, err := c.Account(ctx, "a-1"); return err }
	createUser := func(ctx context.Context, c *Client) error { _, _, err := c.CreateUser(ctx, nil); return err }
	revoke := func(ctx context.Context, c *Client) error { return c.RevokeAccount(ctx, "a-1") }
	tests := []struct {
		name         string
		call         func(context.Context, *Client) error
		responses    []canned
		wantAttempts int
		wantErr      func(error) bool // nil means success
	}{
		{"429 then success", getAccount, []canned{{429, rateLimited, nil}, ok(acctJSON)}, 2, nil},
		{"503, 500, 504 then success", getAccount, []canned{{503, unavailable, nil}, {500, serverError, nil}, {504, "", nil}, ok(acctJSON)}, 4, nil},
		{"no retry on 400", getAccount, []canned{{400, badParams, nil}, ok(acctJSON)}, 1, IsInvalidParameters},
		{"no retry on 404", getAccount, []canned{{404, missing, nil}, ok(acctJSON)}, 1, IsNotFound},
		{"no retry on 501", getAccount, []canned{{501, `{"code":"UNSUPPORTED_METHOD"}`, nil}, ok(acctJSON)}, 1, IsServerError},
		{"gives up after MaxRetries", getAccount, []canned{{503, unavailable, nil}}, 4, IsServerError},
		{"rate limit outlasts retries", getAccount, []canned{{429, rateLimited, nil}}, 4, IsRateLimited},
		{"POST retried on 429", createUser, []canned{{429, rateLimited, nil}, created(`{"user":` + userJSON + `,"token":` + tokenJSON + `}`)}, 2, nil},
		{"POST retried on 503", createUser, []canned{{503, unavailable, nil}, created(`{"user":` + userJSON + `,"token":` + tokenJSON + `}`)}, 2, nil},
		{"POST not retried on 500", createUser, []canned{{500, serverError, nil}, created(`{}`)}, 1, IsServerError},
		{"DELETE 404 after a lost answer is success", revoke, []canned{{502, "", nil}, {404, missing, nil}}, 2, nil},
		{"DELETE 404 at first try is an error", revoke, []canned{{404, missing, nil}, {200, deleted, nil}}, 1, IsNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCannedServer(t, tc.responses...)
			c, sr := newTestClient(t, srv.srv.URL, nil)
			err := tc.call(t.Context(), c)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("got error %v, want nil", err)
			case tc.wantErr != nil && !tc.wantErr(err):
				t.Errorf("got error %v, want one matching the predicate", err)
			}
			if got := len(srv.requests()); got != tc.wantAttempts {
				t.Errorf("got %d attempts, want %d", got, tc.wantAttempts)
			}
			if got := len(sr.waits); got != tc.wantAttempts-1 {
				t.Errorf("got %d backoff waits, want %d", got, tc.wantAttempts-1)
			}
			if tc.wantAttempts == 4 && tc.wantErr != nil && !strings.Contains(fmt.Sprint(err), "gave up after 4 attempts") {
				t.Errorf("error %q does not say it gave up after 4 attempts", err)
			}
		})
	}
}

func TestClientRetryAfter(t *testing.T) {
	srv := newCannedServer(t, canned{status: 429, body: `{"code":"REQUEST_LIMIT_EXCEEDED"}`, header: map[string]string{"Retry-After": "7"}}, ok(acctJSON))
	c, sr := newTestClient(t, srv.srv.URL, func(cfg *ClientConfig) { cfg.Backoff = func(int) time.Duration { return time.Millisecond } })
	if _, err := c.Account(t.Context(), "a-1"); err != nil {
		t.Fatalf("got error %v, want nil", err)
	}
	if len(sr.waits) != 1 || sr.waits[0] != 7*time.Second {
		t.Errorf("got waits %v, want [7s]", sr.waits)
	}
}

// failingTransport fails the first n requests with err, then uses next.
type failingTransport struct {
	mu    sync.Mutex
	n     int
	calls int
	err   error
	next  http.RoundTripper
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.n
	f.mu.Unlock()
	if fail {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, f.err
	}
	return f.next.RoundTrip(r)
}

func TestClientTransportErrors(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	readErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	userResp := created(`{"user":` + userJSON + `,"token":` + tokenJSON + `}`)
	tests := []struct {
		name      string
		err       error
		post      bool
		wantCalls int
		wantOK    bool
	}{
		{"GET retried after a reset", readErr, false, 2, true},
		{"POST retried after connection refused", dialErr, true, 2, true},
		{"POST not retried after a reset", readErr, true, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := ok(acctJSON)
			if tc.post {
				resp = userResp
			}
			srv := newCannedServer(t, resp)
			ft := &failingTransport{n: 1, err: tc.err, next: http.DefaultTransport}
			c, _ := newTestClient(t, srv.srv.URL, func(cfg *ClientConfig) { cfg.HTTPClient = &http.Client{Transport: ft} })
			var err error
			if tc.post {
				_, _, err = c.CreateUser(t.Context(), nil)
			} else {
				_, err = c.Account(t.Context(), "a-1")
			}
			if (err == nil) != tc.wantOK {
				t.Errorf("got error %v, want success %v", err, tc.wantOK)
			}
			if ft.calls != tc.wantCalls {
				t.Errorf("got %d round trips, want %d", ft.calls, tc.wantCalls)
			}
		})
	}
}

func TestClientCancelDuringBackoff(t *testing.T) {
	srv := newCannedServer(t, canned{status: 503, body: `{"code":"SERVER_UNAVAILABLE"}`})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, err := NewClient(ClientConfig{
		BaseURL: srv.srv.URL + "/v1", APIKey: testKey, APISecret: testSecret,
		// The real Sleep; the backoff cancels the context and asks for an hour.
		Backoff: func(int) time.Duration { cancel(); return time.Hour },
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	start := time.Now()
	_, err = c.Account(ctx, "a-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("got return after %v, want prompt", elapsed)
	}
	if got := len(srv.requests()); got != 1 {
		t.Errorf("got %d attempts, want 1", got)
	}
}

func TestClientAllAccounts(t *testing.T) {
	var mu sync.Mutex
	var cursors []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("userId") != "u-1" || q.Get("size") != "150" {
			t.Errorf("got query %v, want userId=u-1 size=150", q)
		}
		mu.Lock()
		cursors = append(cursors, q.Get("cursor"))
		mu.Unlock()
		pages := map[string]string{
			"":   `{"nextCursor":"p2","items":[{"id":"a-1"},{"id":"a-2"}]}`,
			"p2": `{"nextCursor":"p3","items":[{"id":"a-3"}]}`,
			"p3": `{"nextCursor":null,"items":[{"id":"a-4"}]}`,
		}
		_, _ = io.WriteString(w, `{"code":"OK","message":"Success","requestId":"r","data":`+pages[q.Get("cursor")]+`}`)
	}))
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL, nil)
	accounts, err := c.AllAccounts(t.Context(), "u-1")
	if err != nil {
		t.Fatalf("AllAccounts: %v", err)
	}
	var ids []string
	for _, a := range accounts {
		ids = append(ids, a.ID)
	}
	if want := []string{"a-1", "a-2", "a-3", "a-4"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got ids %v, want %v", ids, want)
	}
	if want := []string{"", "p2", "p3"}; !reflect.DeepEqual(cursors, want) {
		t.Errorf("got cursors %q, want %q", cursors, want)
	}
}

func TestClientAllAccountsCursorLoop(t *testing.T) {
	srv := newCannedServer(t, ok(`{"nextCursor":"same","items":[{"id":"a-1"}]}`))
	c, _ := newTestClient(t, srv.srv.URL, nil)
	if _, err := c.AllAccounts(t.Context(), "u-1"); err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Errorf("got error %v, want a repeating-cursor error", err)
	}
}

func TestClientRejectsBadInputWithoutSending(t *testing.T) {
	tooMany := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"}
	tests := []struct {
		name string
		call func(context.Context, *Client) error
	}{
		{"six metadata pairs", func(ctx context.Context, c *Client) error { _, _, err := c.CreateUser(ctx, tooMany); return err }},
		{"metadata key of 51 chars", func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateUser(ctx, map[string]string{strings.Repeat("k", 51): "v"})
			return err
		}},
		{"metadata value of 501 chars", func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateUser(ctx, map[string]string{"k": strings.Repeat("v", 501)})
			return err
		}},
		{"non-ASCII metadata", func(ctx context.Context, c *Client) error {
			_, _, err := c.CreateUser(ctx, map[string]string{"name": "José"})
			return err
		}},
		{"empty user id", func(ctx context.Context, c *Client) error { _, err := c.RefreshToken(ctx, ""); return err }},
		{"empty account id", func(ctx context.Context, c *Client) error { return c.RevokeAccount(ctx, "") }},
		{"page size 151", func(ctx context.Context, c *Client) error { _, err := c.Accounts(ctx, "u", "", 151); return err }},
		{"negative page size", func(ctx context.Context, c *Client) error { _, err := c.Webhooks(ctx, "", -1); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCannedServer(t, ok(`{}`))
			c, _ := newTestClient(t, srv.srv.URL, nil)
			if err := tc.call(t.Context(), c); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("got error %v, want ErrInvalidArgument", err)
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("got %d requests, want 0", n)
			}
		})
	}
	if err := ValidateExternalMetadata(map[string]string{"a": "1", "b": strings.Repeat("v", 500), strings.Repeat("k", 50): ""}); err != nil {
		t.Errorf("metadata at the limits: got %v, want nil", err)
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name        string
		cfg         ClientConfig
		wantErr     bool
		wantLimit   rate.Limit
		wantRetries int
	}{
		{"defaults", ClientConfig{BaseURL: SandboxBaseURL, APIKey: "k", APISecret: "s"}, false, 20, 3},
		{"custom", ClientConfig{BaseURL: ProductionBaseURL + "/", APIKey: "k", APISecret: "s", RequestsPerSecond: 5, MaxRetries: 1}, false, 5, 1},
		{"unlimited, no retries", ClientConfig{BaseURL: "http://fake/v1", APIKey: "k", APISecret: "s", RequestsPerSecond: -1, MaxRetries: -1}, false, rate.Inf, 0},
		{"no base URL", ClientConfig{APIKey: "k", APISecret: "s"}, true, 0, 0},
		{"relative base URL", ClientConfig{BaseURL: "/v1", APIKey: "k", APISecret: "s"}, true, 0, 0},
		{"ftp base URL", ClientConfig{BaseURL: "ftp://x/v1", APIKey: "k", APISecret: "s"}, true, 0, 0},
		{"no secret", ClientConfig{BaseURL: SandboxBaseURL, APIKey: "k"}, true, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := c.limiter.Limit(); got != tc.wantLimit {
				t.Errorf("got limit %v, want %v", got, tc.wantLimit)
			}
			if c.limiter.Burst() != 1 {
				t.Errorf("got burst %d, want 1", c.limiter.Burst())
			}
			if c.maxRetries != tc.wantRetries {
				t.Errorf("got max retries %d, want %d", c.maxRetries, tc.wantRetries)
			}
			if strings.HasSuffix(c.baseURL, "/") {
				t.Errorf("got base URL %q, want no trailing slash", c.baseURL)
			}
			if tc.cfg.HTTPClient == nil && c.http.Timeout != DefaultTimeout {
				t.Errorf("got timeout %v, want %v", c.http.Timeout, DefaultTimeout)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		retry    int
		min, max time.Duration
	}{
		{1, 125 * time.Millisecond, 250 * time.Millisecond},
		{2, 250 * time.Millisecond, 500 * time.Millisecond},
		{3, 500 * time.Millisecond, time.Second},
		{10, 2500 * time.Millisecond, 5 * time.Second},
		{100, 2500 * time.Millisecond, 5 * time.Second},
	}
	for _, tc := range tests {
		for range 50 {
			if d := defaultBackoff(tc.retry); d < tc.min || d > tc.max {
				t.Errorf("retry %d: got %v, want within [%v, %v]", tc.retry, d, tc.min, tc.max)
			}
		}
	}
}
