package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/sandbox"
	"smiledash/smile/smiletest"
)

// connectApp is a test app with the connect flow wired to the in-process fake
// Smile API and the sandbox simulator, as sandbox mode wires it.
type connectApp struct {
	*testApp
	api *fakeapi.Server
	sim *sandbox.Simulator
	// tokenCalls counts the Smile requests that issue a Link token (POST
	// /users on a first open, POST /tokens after) the app made.
	tokenCalls *atomic.Int64
}

// countingTransport counts POST /users and /tokens on their way to the fake API.
type countingTransport struct {
	next   http.RoundTripper
	tokens *atomic.Int64
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && (strings.HasSuffix(req.URL.Path, "/tokens") || strings.HasSuffix(req.URL.Path, "/users")) {
		c.tokens.Add(1)
	}
	return c.next.RoundTrip(req)
}

const testPublicURL = "https://dash.example.test"

func newConnectApp(t *testing.T, mutate ...func(*handlers.Deps)) *connectApp {
	t.Helper()
	api := fakeapi.New(fakeapi.Options{})
	tokenCalls := &atomic.Int64{}
	client, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "sandbox", APISecret: "sandbox",
		HTTPClient: &http.Client{Transport: countingTransport{fakeapi.Transport(api), tokenCalls}}, RequestsPerSecond: -1, MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := sandbox.New(sandbox.Options{API: api, Secret: []byte(smiletest.FixtureSecret), RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	a := newTestApp(t, append([]func(*handlers.Deps){func(d *handlers.Deps) {
		d.Webhooks.MaxBytes = 1 << 20 // above MaxCallbackBytes, as in production
		d.Connect = handlers.ConnectDeps{
			Smile: client, Sandbox: sim.Handler(), PublicURL: testPublicURL,
			WidgetScriptURL: "/static/js/sandbox-widget.js", TemplateID: "wtpl-test",
		}
	}}, mutate...)...)
	return &connectApp{testApp: a, api: api, sim: sim, tokenCalls: tokenCalls}
}

// link creates a connect link in the store.
func (a *connectApp) link(t *testing.T, ref string, expires *time.Time) models.Link {
	t.Helper()
	l, err := a.store.CreateLink(context.Background(), models.NewLink{ExternalRef: ref, Label: "Test person", ExpiresAt: expires, CreatedBy: "test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// fixtureSession binds a link to the fixtures' Smile user and starts a widget
// session for it directly in the store, so the callback fixtures' userId
// matches. It returns the link as bound and the session token.
func (a *connectApp) fixtureSession(t *testing.T, ref string, at time.Time, ttl time.Duration) (models.Link, string) {
	t.Helper()
	ctx := context.Background()
	l, err := a.store.AttachSmileUser(ctx, a.link(t, ref, nil).ID, smiletest.FixtureUserID)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := a.store.CreateWidgetSession(ctx, l, at, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return l, token
}

type bootData struct {
	UserToken  string `json:"userToken"`
	TemplateID string `json:"templateId"`
	Session    string `json:"session"`
	EventsURL  string `json:"eventsURL"`
	TokenURL   string `json:"tokenURL"`
}

// open GETs a connect page and returns the response and its boot data.
func (a *connectApp) open(t *testing.T, code string) (response, bootData, *goquery.Document) {
	t.Helper()
	resp := a.do(t, httptest.NewRequest(http.MethodGet, "/connect/"+code, nil))
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(resp.body))
	if err != nil {
		t.Fatal(err)
	}
	var boot bootData
	if raw := doc.Find("script#connect-boot").Text(); raw != "" {
		if err := json.Unmarshal([]byte(raw), &boot); err != nil {
			t.Fatalf("boot data %q: %v", raw, err)
		}
	}
	return resp, boot, doc
}

// postJSON sends a JSON body as connect.js does.
func (a *connectApp) postJSON(t *testing.T, path, body string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (test)")
	return a.do(t, req)
}

func callbackBody(t *testing.T, name string, args json.RawMessage, session string) string {
	t.Helper()
	m := map[string]any{"callback": name, "session": session}
	if args != nil {
		m["args"] = args
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// storedCallback is a callbacks row, read without the model's JSON type so
// the test sees the stored text exactly.
type storedCallback struct {
	Name      string
	UserKey   *int64
	LinkID    *int64
	AccountID string
	SourceIP  string
	UserAgent string
	Args      string
}

func (a *connectApp) callbacks(t *testing.T) []storedCallback {
	t.Helper()
	var out []storedCallback
	if err := a.store.DB().Table("callbacks").Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func (a *connectApp) actionKinds(t *testing.T, linkID int64) []string {
	t.Helper()
	var kinds []string
	if err := a.store.DB().Table("actions").Where("link_id = ?", linkID).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatal(err)
	}
	return kinds
}

// hookRecorder collects the webhooks the simulator sends.
type hookRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *hookRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *hookRecorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.bodies {
		env, _ := smile.ParseEnvelope(b)
		out = append(out, string(env.Type))
	}
	return out
}
