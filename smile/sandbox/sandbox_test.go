package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/sandbox"
	"smiledash/smile/smiletest"
)

const secret = "sbx-test-secret"

// receiver is our webhook endpoint as the simulator sees it: it checks each
// signature and keeps the bodies in arrival order.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	fail   int      // answer 503 to this many requests first
	future []string // events dated after the wall clock when they arrived
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if _, err := smile.Verify([][]byte{[]byte(secret)}, body, req.Header.Get(smile.SignatureHeader)); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	arrived := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if env, err := smile.ParseEnvelope(body); err == nil && env.CreatedAt.After(arrived) {
		r.future = append(r.future, fmt.Sprintf("%s dated %s, arrived %s", env.Type, env.CreatedAt, arrived.UTC()))
	}
	if r.fail > 0 {
		r.fail--
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, body)
}

func (r *receiver) types(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		env, err := smile.ParseEnvelope(b)
		if err != nil {
			t.Fatalf("receiver got a non-envelope: %v", err)
		}
		if err := smiletest.ValidateEvent(b); err != nil {
			t.Errorf("%s does not match Smile's OpenAPI spec: %v\n%s", env.Type, err, b)
		}
		out = append(out, string(env.Type))
	}
	return out
}

type fixture struct {
	api   *fakeapi.Server
	sim   *sandbox.Simulator
	recv  *receiver
	token string
	user  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	api := fakeapi.New(fakeapi.Options{})
	recv := &receiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	sim, err := sandbox.New(sandbox.Options{API: api, Secret: []byte(secret), RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.SetReceiverURL(srv.URL + "/webhooks/smile")
	client, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "sandbox", APISecret: "sandbox",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(api)},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, tok, err := client.CreateUser(context.Background(), map[string]string{"external_ref": "crm-1"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{api: api, sim: sim, recv: recv, token: tok.AccessToken, user: u.ID}
}

func (f *fixture) idle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.sim.Idle(ctx); err != nil {
		t.Fatalf("webhooks still pending: %v", err)
	}
}

func TestLogin_TestLoginConnects(t *testing.T) {
	f := newFixture(t)
	a, err := f.sim.Login(f.token, "sss_ph", "gpalomero1234@smileapi.io", "123456")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Connected || a.UserID != f.user || a.ProviderID != "sss_ph" || !strings.HasPrefix(a.AccountID, "a-") {
		t.Fatalf("got %+v, want a connected sss_ph account of %s", a, f.user)
	}
	f.idle(t)
	types := f.recv.types(t)
	if len(types) < 6 || types[0] != "USER_CREATED" || types[1] != "ACCOUNT_CREATED" || types[2] != "ACCOUNT_CONNECTED" ||
		types[3] != "TASK_STARTED" || types[len(types)-1] != "TASK_FINISHED" || !slices.Contains(types, "IDENTITY_ADDED") {
		t.Errorf("got %v, want USER_CREATED, ACCOUNT_CREATED, ACCOUNT_CONNECTED, TASK_STARTED, data *_ADDED, TASK_FINISHED", types)
	}
	accs := f.api.Accounts(f.user)
	if len(accs) != 1 || accs[0].ConnectionStatus != smile.ConnectionConnected {
		t.Errorf("fake API accounts %+v, want one CONNECTED", accs)
	}
}

func TestLogin_WrongPasswordFails(t *testing.T) {
	f := newFixture(t)
	a, err := f.sim.Login(f.token, "examplepayroll_ph", "gpalomero1234@smileapi.io", "wrong")
	if err != nil {
		t.Fatal(err)
	}
	if a.Connected || a.ErrorCode != "INVALID_CREDENTIALS" {
		t.Fatalf("got %+v, want INVALID_CREDENTIALS", a)
	}
	f.idle(t)
	if got := strings.Join(f.recv.types(t), ","); got != "USER_CREATED,ACCOUNT_CREATED,ACCOUNT_FAILED" {
		t.Errorf("got %s, want USER_CREATED,ACCOUNT_CREATED,ACCOUNT_FAILED", got)
	}
	f.recv.mu.Lock()
	last := string(f.recv.bodies[2])
	f.recv.mu.Unlock()
	if !strings.Contains(last, `"errorCode":"INVALID_CREDENTIALS"`) || !strings.Contains(last, a.AccountID) {
		t.Errorf("ACCOUNT_FAILED body %s, want the account and INVALID_CREDENTIALS", last)
	}
	if accs := f.api.Accounts(f.user); accs[0].ConnectionStatus != smile.ConnectionError {
		t.Errorf("fake API status %s, want ERROR", accs[0].ConnectionStatus)
	}
}

func TestCheckLogin(t *testing.T) {
	for _, tc := range []struct {
		login, password string
		want            bool
	}{
		{"gpalomero1234@smileapi.io", "123456", true},
		{"GPalomero1234@smileapi.io ", "123456", true},
		{"(+63) 9559991234", "123456", true},
		{"3300000008", "123456", true},
		{"ryan1234@smileapi.io", "654321", true},
		{"christina4321@smileapi.io", "YGUS1", true},
		{"christina4321@smileapi.io", "ygus1", false},
		{"anisha98765@smileapi.io", "123456", true},
		{"ryan1234@smileapi.io", "123456", false},
		{"someone@example.com", "123456", false},
		{"", "", false},
	} {
		if got := sandbox.CheckLogin(tc.login, tc.password); got != tc.want {
			t.Errorf("CheckLogin(%q, %q) = %v, want %v", tc.login, tc.password, got, tc.want)
		}
	}
}

func TestRemoveAccountAndUploads(t *testing.T) {
	f := newFixture(t)
	a, _ := f.sim.Login(f.token, "upwork", "ryan1234@smileapi.io", "654321")
	up, err := f.sim.Upload(f.token, "PAYSLIP")
	if err != nil {
		t.Fatal(err)
	}
	if up.UserID != f.user || !strings.HasPrefix(up.ID, "archive-") || up.State.Status != "STARTED" {
		t.Errorf("got upload %+v", up)
	}
	if _, err := f.sim.RemoveUpload(f.token, up.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.RemoveAccount(f.token, a.AccountID); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	types := f.recv.types(t)
	for _, want := range []string{"ARCHIVE_STARTED", "ARCHIVE_ANALYZED", "ARCHIVE_REVOKED", "ACCOUNT_DISCONNECTED"} {
		if !slices.Contains(types, want) {
			t.Errorf("got %v, want %s among them", types, want)
		}
	}
	if types[len(types)-1] != "ACCOUNT_DISCONNECTED" {
		t.Errorf("got %v: one user's webhooks must arrive in order", types)
	}
	if accs := f.api.Accounts(f.user); accs[0].ConnectionStatus != smile.ConnectionDisconnected {
		t.Errorf("fake API status %s, want DISCONNECTED", accs[0].ConnectionStatus)
	}
	if _, err := f.sim.RemoveAccount(f.token, "a-someone-else"); !errors.Is(err, sandbox.ErrNotYours) {
		t.Errorf("foreign account: got %v, want ErrNotYours", err)
	}
	if _, err := f.sim.RemoveUpload(f.token, "archive-else"); !errors.Is(err, sandbox.ErrNotYours) {
		t.Errorf("foreign archive: got %v, want ErrNotYours", err)
	}
}

func TestBadInputAndExpiredToken(t *testing.T) {
	f := newFixture(t)
	if _, err := f.sim.Login(f.token, "no-such-provider", "x", "y"); !errors.Is(err, sandbox.ErrInvalid) {
		t.Errorf("unknown provider: got %v", err)
	}
	if _, err := f.sim.Login(f.token, "sss_ph", strings.Repeat("x", 201), "y"); !errors.Is(err, sandbox.ErrInvalid) {
		t.Errorf("long login: got %v", err)
	}
	if _, err := f.sim.Upload(f.token, "SELFIE"); !errors.Is(err, sandbox.ErrInvalid) {
		t.Errorf("unknown file type: got %v", err)
	}
	s, err := f.sim.Open(f.token)
	if err != nil || s.UserID != f.user || s.Mode != smile.ModeSandbox || len(s.Providers) == 0 || len(s.TestLogins) != 4 {
		t.Fatalf("open: got %+v, %v", s, err)
	}
	if err := f.sim.ExpireToken(f.token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Open(f.token); !errors.Is(err, sandbox.ErrTokenExpired) {
		t.Errorf("open after expiry: got %v, want ErrTokenExpired", err)
	}
	if _, err := f.sim.Login(f.token, "sss_ph", "gpalomero1234@smileapi.io", "123456"); !errors.Is(err, sandbox.ErrTokenExpired) {
		t.Errorf("login after expiry: got %v, want ErrTokenExpired", err)
	}
	if _, err := f.sim.Open("forged"); !errors.Is(err, sandbox.ErrTokenExpired) {
		t.Errorf("forged token: got %v", err)
	}
	f.idle(t)
	if got := f.recv.types(t); len(got) != 1 || got[0] != "USER_CREATED" {
		t.Errorf("got webhooks %v, want only the user's USER_CREATED: none for refused input", got)
	}
}

func TestDeliveryRetriesUntilAcknowledged(t *testing.T) {
	f := newFixture(t)
	f.idle(t) // USER_CREATED
	f.recv.fail = 2
	if _, err := f.sim.Login(f.token, "sss_ph", "nobody", "x"); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if got := strings.Join(f.recv.types(t), ","); got != "USER_CREATED,ACCOUNT_CREATED,ACCOUNT_FAILED" {
		t.Errorf("got %s, want both events delivered after retries", got)
	}
}

func TestSpeedupSpacesEvents(t *testing.T) {
	f := newFixture(t)
	sim, err := sandbox.New(sandbox.Options{API: f.api, Secret: []byte(secret), Speedup: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetReceiverURL(f.sim.ReceiverURL())
	if _, err := sim.Login(f.token, "sss_ph", "gpalomero1234@smileapi.io", "123456"); err != nil {
		t.Fatal(err)
	}
	if sim.Pending() == 0 {
		t.Error("want webhooks pending right after the login")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Idle(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestWebhooksDatedWhenSent: a flow whose events Smile spreads over a minute
// or more is sent at once here (no speed-up), and still no webhook may be
// dated after the wall clock when it arrives: delays are waited out, never
// written into createdAt.
func TestWebhooksDatedWhenSent(t *testing.T) {
	f := newFixture(t)
	if _, err := f.sim.Login(f.token, "sss_ph", "gpalomero1234@smileapi.io", "123456"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Login(f.token, "upwork", "nobody", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Upload(f.token, "PAYSLIP"); err != nil {
		t.Fatal(err)
	}
	f.idle(t)
	if n := len(f.recv.types(t)); n < 10 {
		t.Fatalf("got %d webhooks, want a whole connect, a failure and an upload", n)
	}
	f.recv.mu.Lock()
	defer f.recv.mu.Unlock()
	for _, v := range f.recv.future {
		t.Errorf("webhook from the future: %s", v)
	}
}

// TestCreateUserSendsUserCreated: POST /users on the fake API sends
// USER_CREATED for the new user, as Smile does.
func TestCreateUserSendsUserCreated(t *testing.T) {
	f := newFixture(t)
	f.idle(t)
	f.recv.mu.Lock()
	defer f.recv.mu.Unlock()
	if len(f.recv.bodies) != 1 {
		t.Fatalf("got %d webhooks after POST /users, want USER_CREATED only", len(f.recv.bodies))
	}
	env, err := smile.ParseEnvelope(f.recv.bodies[0])
	if err != nil || env.Type != smile.UserCreated || env.Data.UserID != f.user {
		t.Errorf("got %s for %q (err %v), want USER_CREATED for %s", env.Type, env.Data.UserID, err, f.user)
	}
}

// TestWidgetCORS: the widget calls answer any origin, `null` included (a
// sandboxed iframe), preflight and errors too, so a page elsewhere never hangs.
func TestWidgetCORS(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.sim.Handler())
	t.Cleanup(srv.Close)
	for _, origin := range []string{"null", "http://127.0.0.1:9999", "https://shop.example.com"} {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+sandbox.WidgetPath+"open", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
			t.Errorf("preflight from %s: got %d %v", origin, resp.StatusCode, h)
		}
	}
	for body, want := range map[string]int{
		`{"token":"` + f.token + `"}`: http.StatusOK,
		`{"token":"forged"}`:          http.StatusUnauthorized,
		`{"nope":1}`:                  http.StatusBadRequest,
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+sandbox.WidgetPath+"open", strings.NewReader(body))
		req.Header.Set("Origin", "null")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("POST %s: got %d, CORS %q; want %d, *", body, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), want)
		}
	}
	if _, err := f.sim.Open(f.token); err != nil {
		t.Fatal(err)
	}
}

// TestSecondApart: with SecondApart, no two of a user's webhooks share a
// second, and none is dated after the wall clock.
func TestSecondApart(t *testing.T) {
	f := newFixture(t)
	f.idle(t) // USER_CREATED, from the fixture's simulator
	sim, err := sandbox.New(sandbox.Options{API: f.api, Secret: []byte(secret), SecondApart: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	sim.SetReceiverURL(f.sim.ReceiverURL())
	if _, err := sim.Login(f.token, "sss_ph", "nobody", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Login(f.token, "upwork", "nobody", "x"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	f.recv.mu.Lock()
	defer f.recv.mu.Unlock()
	seconds := map[time.Time]bool{}
	for _, b := range f.recv.bodies[1:] {
		env, _ := smile.ParseEnvelope(b)
		if seconds[env.CreatedAt] {
			t.Errorf("two of the user's webhooks dated %s", env.CreatedAt)
		}
		seconds[env.CreatedAt] = true
	}
	if len(seconds) != 4 || len(f.recv.future) != 0 {
		t.Errorf("got %d distinct seconds for 4 webhooks, future %v", len(seconds), f.recv.future)
	}
}
