package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"smiledash/handlers"
	"smiledash/models"
)

// fakeConnect is the connect flow's store in memory: one link, its widget
// sessions, and what the handlers record. fail makes the named method return
// that error, as a store that is down or past its lock timeout does; calls
// lists the methods called, in order.
type fakeConnect struct {
	mu        sync.Mutex
	link      models.Link
	sessions  map[string]models.WidgetSession
	callbacks []models.Callback
	actions   []string
	calls     []string
	fail      map[string]error
}

const fakeLinkCode = "fake-link-code"

func newFakeConnect() *fakeConnect {
	return &fakeConnect{
		link:     models.Link{ID: 7, Code: fakeLinkCode, ExternalRef: "crm-7", Label: "Test person"},
		sessions: map[string]models.WidgetSession{},
		fail:     map[string]error{},
	}
}

// call records a call and returns the error it was told to fail with.
func (f *fakeConnect) call(name string) error {
	f.calls = append(f.calls, name)
	return f.fail[name]
}

// failing sets (or, with nil, clears) the error a method returns.
func (f *fakeConnect) failing(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.fail, name)
		return
	}
	f.fail[name] = err
}

func (f *fakeConnect) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeConnect) LinkByCode(_ context.Context, code string) (models.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("LinkByCode"); err != nil {
		return models.Link{}, err
	}
	if code != f.link.Code {
		return models.Link{}, models.ErrNotFound
	}
	return f.link, nil
}

func (f *fakeConnect) AttachSmileUser(_ context.Context, linkID int64, smileUserID string) (models.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("AttachSmileUser"); err != nil {
		return models.Link{}, err
	}
	if f.link.SmileUserID == "" {
		f.link.SmileUserID = smileUserID
	}
	return f.link, nil
}

func (f *fakeConnect) MarkLinkOpened(_ context.Context, _ models.Link, _ time.Time, _ map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("MarkLinkOpened"); err != nil {
		return err
	}
	f.actions = append(f.actions, models.ActionLinkOpened)
	return nil
}

func (f *fakeConnect) RecordLinkAction(_ context.Context, _ models.Link, kind, _ string, _ time.Time, _ map[string]any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("RecordLinkAction"); err != nil {
		return err
	}
	f.actions = append(f.actions, kind)
	return nil
}

func (f *fakeConnect) CreateWidgetSession(_ context.Context, l models.Link, now time.Time, ttl time.Duration) (string, models.WidgetSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateWidgetSession"); err != nil {
		return "", models.WidgetSession{}, err
	}
	token := "session-" + string(rune('a'+len(f.sessions)))
	ws := models.WidgetSession{ID: int64(len(f.sessions) + 1), LinkID: l.ID, SmileUserID: l.SmileUserID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	f.sessions[token] = ws
	return token, ws, nil
}

func (f *fakeConnect) CheckWidgetSession(_ context.Context, token string, l models.Link, now time.Time) (models.WidgetSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CheckWidgetSession"); err != nil {
		return models.WidgetSession{}, err
	}
	ws, ok := f.sessions[token]
	switch {
	case !ok:
		return ws, models.ErrSessionUnknown
	case ws.LinkID != l.ID:
		return ws, models.ErrSessionForeign
	case !now.Before(ws.ExpiresAt):
		return ws, models.ErrSessionExpired
	}
	return ws, nil
}

func (f *fakeConnect) TouchWidgetSession(context.Context, int64, time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.call("TouchWidgetSession")
}

func (f *fakeConnect) CreateCallback(_ context.Context, cb *models.Callback) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("CreateCallback"); err != nil {
		return err
	}
	f.callbacks = append(f.callbacks, *cb)
	return nil
}

func (f *fakeConnect) TakeCallback(context.Context, models.Link, int64, int, time.Time) (models.LinkVerdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return models.LinkVerdict{Allowed: true}, f.call("TakeCallback")
}

func (f *fakeConnect) TakeToken(context.Context, models.Link, int64, time.Time) (models.LinkVerdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return models.LinkVerdict{Allowed: true}, f.call("TakeToken")
}

func (f *fakeConnect) stored() (callbacks int, actions []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.callbacks), slices.Clone(f.actions)
}

var _ handlers.ConnectStore = (*fakeConnect)(nil)

// storeFailures are the ways a store fails that a person holding a link may
// run into: busy or unreachable (503, try again shortly) or refusing outright
// (500). Each carries a text that must never reach the response.
var storeFailures = []struct {
	name       string
	err        error
	wantStatus int
	leak       string
}{
	{"sqlite busy", sqlite3.Error{Code: sqlite3.ErrBusy}, http.StatusServiceUnavailable, "locked"},
	{"postgres lock timeout", &pgconn.PgError{Code: "55P03", Message: "canceling statement due to lock timeout"}, http.StatusServiceUnavailable, "lock timeout"},
	{"statement deadline", context.DeadlineExceeded, http.StatusServiceUnavailable, "deadline"},
	{"database down", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, http.StatusServiceUnavailable, "refused"},
	{"database refuses", errors.New("disk I/O error"), http.StatusInternalServerError, "disk I/O"},
}

// TestShowConnect_StoreFailures: whichever step of opening a connect link the
// store fails at, the person sees the plain error page with the right status
// (503 with Retry-After when trying again shortly may work), never the cause,
// never a widget token; and nothing after the failing step happens.
func TestShowConnect_StoreFailures(t *testing.T) {
	t.Parallel()
	steps := []struct {
		method string
		// wantSmileCalls is how many Link tokens the app asked Smile for.
		wantSmileCalls int64
	}{
		{"LinkByCode", 0},
		{"TakeToken", 0},
		{"AttachSmileUser", 1},
		{"CreateWidgetSession", 1},
		{"MarkLinkOpened", 1},
	}
	for _, step := range steps {
		for _, sf := range storeFailures {
			t.Run(step.method+"/"+sf.name, func(t *testing.T) {
				t.Parallel()
				fake := newFakeConnect()
				fake.failing(step.method, sf.err)
				a := newConnectApp(t, func(d *handlers.Deps) { d.Stores.Connect = fake })
				resp, boot, doc := a.open(t, fakeLinkCode)
				if resp.status != sf.wantStatus {
					t.Fatalf("got %d, want %d", resp.status, sf.wantStatus)
				}
				msg := doc.Find("[data-testid=error-message]").Text()
				if msg == "" || strings.Contains(resp.body, sf.leak) {
					t.Errorf("got message %q, want plain words without %q", msg, sf.leak)
				}
				if got := resp.header.Get("Retry-After"); (sf.wantStatus == http.StatusServiceUnavailable) != (got != "") {
					t.Errorf("got Retry-After %q with %d", got, resp.status)
				}
				if boot.UserToken != "" || boot.Session != "" {
					t.Errorf("got boot data %+v on an error page", boot)
				}
				calls := fake.called()
				if last := calls[len(calls)-1]; last != step.method {
					t.Errorf("got calls %v, want none after %s failed", calls, step.method)
				}
				if _, actions := fake.stored(); slices.Contains(actions, models.ActionLinkOpened) {
					t.Error("the open was recorded though the page failed")
				}
				if n := a.tokenCalls.Load(); n != step.wantSmileCalls {
					t.Errorf("got %d Smile token calls, want %d", n, step.wantSmileCalls)
				}
			})
		}
	}
}

// TestReceiveCallback_StoreFailures: a callback the store cannot take gets a
// JSON error in plain words (503 with Retry-After when busy or unreachable),
// nothing is stored, and the page's session keeps working: the same callback
// posted again once the store is back is stored.
func TestReceiveCallback_StoreFailures(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"LinkByCode", "CheckWidgetSession", "TakeCallback", "CreateCallback"} {
		for _, sf := range storeFailures {
			t.Run(method+"/"+sf.name, func(t *testing.T) {
				t.Parallel()
				fake := newFakeConnect()
				a := newConnectApp(t, func(d *handlers.Deps) { d.Stores.Connect = fake })
				resp, boot, _ := a.open(t, fakeLinkCode)
				if resp.status != http.StatusOK || boot.Session == "" {
					t.Fatalf("open: got %d and session %q, want 200 with a session", resp.status, boot.Session)
				}
				post := func() response {
					return a.postJSON(t, boot.EventsURL, callbackBody(t, "onClose", json.RawMessage(`{"reason":"close"}`), boot.Session))
				}
				fake.failing(method, sf.err)
				got := post()
				// The connect page's callbacks are machine posts: a busy
				// store is 503, and the handler calls a store that cannot
				// count or store the callback unavailable whatever the cause.
				want := sf.wantStatus
				if method == "TakeCallback" || method == "CreateCallback" {
					want = http.StatusServiceUnavailable
				}
				if got.status != want {
					t.Fatalf("got %d %s, want %d", got.status, got.body, want)
				}
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(got.body), &e); err != nil || e.Error == "" || strings.Contains(got.body, sf.leak) {
					t.Errorf("got body %s, want a JSON error in plain words without %q", got.body, sf.leak)
				}
				if want == http.StatusServiceUnavailable && got.header.Get("Retry-After") == "" {
					t.Error("a 503 without Retry-After")
				}
				if n, _ := fake.stored(); n != 0 {
					t.Errorf("got %d callbacks stored, want none", n)
				}
				fake.failing(method, nil)
				if got := post(); got.status != http.StatusNoContent {
					t.Fatalf("after the store recovered: got %d %s, want 204", got.status, got.body)
				}
				if n, _ := fake.stored(); n != 1 {
					t.Errorf("after the store recovered: got %d callbacks stored, want 1", n)
				}
			})
		}
	}
}

// TestReceiveCallback_TouchFails: a callback stored while the session's
// last-used time cannot be written is still a 204: the callback is what
// matters, the touch only feeds the links page.
func TestReceiveCallback_TouchFails(t *testing.T) {
	t.Parallel()
	fake := newFakeConnect()
	a := newConnectApp(t, func(d *handlers.Deps) { d.Stores.Connect = fake })
	_, boot, _ := a.open(t, fakeLinkCode)
	fake.failing("TouchWidgetSession", sqlite3.Error{Code: sqlite3.ErrBusy})
	got := a.postJSON(t, boot.EventsURL, callbackBody(t, "onClose", nil, boot.Session))
	if got.status != http.StatusNoContent {
		t.Fatalf("got %d %s, want 204", got.status, got.body)
	}
	if n, _ := fake.stored(); n != 1 {
		t.Errorf("got %d callbacks stored, want 1", n)
	}
}

// TestRefreshConnectToken_StoreFailures: a token request the store cannot
// serve is a JSON error (503 with Retry-After when busy), the widget's session
// survives it, and the next request gets a token. When the store fails
// before Smile is asked, Smile is not asked.
func TestRefreshConnectToken_StoreFailures(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"LinkByCode", "CheckWidgetSession", "TakeToken", "RecordLinkAction", "TouchWidgetSession"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			fake := newFakeConnect()
			a := newConnectApp(t, func(d *handlers.Deps) { d.Stores.Connect = fake })
			_, boot, _ := a.open(t, fakeLinkCode)
			before := a.tokenCalls.Load()
			ask := func() response {
				return a.postJSON(t, boot.TokenURL, `{"session":"`+boot.Session+`","reason":"expired"}`)
			}
			fake.failing(method, sqlite3.Error{Code: sqlite3.ErrBusy})
			got := ask()
			if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
				t.Fatalf("got %d (Retry-After %q) %s, want 503 with Retry-After", got.status, got.header.Get("Retry-After"), got.body)
			}
			if strings.Contains(got.body, "userToken") || strings.Contains(got.body, "locked") {
				t.Errorf("got body %s, want only a plain-words error", got.body)
			}
			asked := a.tokenCalls.Load() - before
			if early := method == "LinkByCode" || method == "CheckWidgetSession" || method == "TakeToken"; early && asked != 0 {
				t.Errorf("got %d Smile token calls, want none when the store failed first", asked)
			}
			fake.failing(method, nil)
			if got := ask(); got.status != http.StatusOK || !strings.Contains(got.body, "userToken") {
				t.Errorf("after the store recovered: got %d %s, want 200 with a token", got.status, got.body)
			}
		})
	}
}
