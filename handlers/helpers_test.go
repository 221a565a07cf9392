package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
	"smiledash/static"
)

// testApp is a real app on a temporary SQLite store.
type testApp struct {
	app   *fiber.App
	store *models.Store
	auth  *auth.Store
	in    *models.Ingester
	// projected is the store the app's webhooks go to: do waits for its
	// projections after each accepted webhook, as tests read them next.
	projected *models.Store
}

// fiber's app.Test connects from 0.0.0.0.
const testPeer = "0.0.0.0"

func newTestApp(t *testing.T, mutate ...func(*handlers.Deps)) *testApp {
	t.Helper()
	store := storetest.SQLite(t)
	in, err := store.NewIngester(models.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	allowed, _ := handlers.ParseIPSet(testPeer)
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	deps := handlers.Deps{
		Store:    store,
		Assets:   assets,
		Ingester: in,
		Webhooks: handlers.WebhookConfig{
			Secrets:    [][]byte{[]byte(smiletest.FixtureSecret), []byte("second-secret-being-rotated-in")},
			AllowedIPs: allowed,
			MaxBytes:   64 << 10,
		},
	}
	for _, m := range mutate {
		m(&deps)
	}
	if deps.Auth == nil && deps.Store != nil {
		deps.Auth = auth.New(deps.Store)
	}
	return &testApp{app: handlers.NewApp(deps), store: store, auth: authOf(deps), in: in, projected: deps.Store}
}

type response struct {
	status int
	body   string
	header http.Header
}

func (a *testApp) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if req.URL.Path == "/webhooks/smile" && resp.StatusCode == http.StatusOK && a.projected != nil {
		storetest.Sync(t, a.projected)
	}
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func webhookRequest(body []byte, signature string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/smile", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(smile.SignatureHeader, signature)
	}
	return req
}

func signed(body []byte) *http.Request {
	return webhookRequest(body, smile.SignatureFor([]byte(smiletest.FixtureSecret), body))
}

// authOf is the auth store an app was built with, for seeding admins and
// tokens in the same store (and password-check counter) the app uses.
func authOf(d handlers.Deps) *auth.Store {
	a, _ := d.Auth.(*auth.Store)
	return a
}
