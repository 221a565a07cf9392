package handlers_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// routeInputs names, for every route of the route table ("METHOD /pattern"),
// the query parameters and form fields its handler reads. The NUL test below
// walks the app's own routes and fails on a route missing here, so a new
// route has to say what it reads; a route that reads none is listed with no
// names (and tried with a stand-in parameter).
var routeInputs = map[string][]string{
	"GET /healthz":               nil,
	"GET /readyz":                nil,
	"GET /metrics":               nil,
	"POST /webhooks/smile":       nil, // a signed JSON body
	"GET /static/*":              {"v"},
	"GET /connect/:code":         nil,
	"POST /connect/:code/events": nil, // JSON bodies
	"POST /connect/:code/token":  nil,
	"GET /":                      nil,
	"GET /login":                 {"next"},
	"POST /login":                {"email", "password", "next"},
	"POST /logout":               nil,

	"GET /admin/":                              {"range"},
	"GET /admin/users":                         {"q", "status", "provider", "after"},
	"GET /admin/users/:id":                     {"account", "kind", "ui", "before"},
	"GET /admin/timeline/:kind/:id":            nil,
	"GET /admin/timeline/:kind/:id/raw":        nil,
	"GET /admin/events":                        {"type", "family", "user", "account", "outcome", "range", "from", "to", "tz", "before", "since"},
	"GET /admin/events/:id":                    {"reprojecting"},
	"GET /admin/events/:id/body":               nil,
	"POST /admin/events/:id/reproject":         nil,
	"GET /admin/deliveries":                    {"outcome", "reason", "before"},
	"GET /admin/records":                       {"kind", "id", "before"},
	"GET /admin/stream":                        {"user"},
	"GET /admin/links":                         {"before", "created"},
	"POST /admin/links":                        {"external_ref", "label", "expires"},
	"POST /admin/links/:id/revoke":             nil,
	"GET /admin/settings":                      {"registered", "outcome", "replaced", "old", "deleted", "reprojecting"},
	"POST /admin/settings/webhook":             nil,
	"POST /admin/settings/webhooks/:id/delete": {"confirm"},
	"POST /admin/settings/reproject":           {"confirm"},
	"GET /admin/admins":                        nil,
	"POST /admin/admins":                       {"email", "role", "password"},
	"POST /admin/admins/:id/role":              {"role"},
	"POST /admin/admins/:id/remove":            nil,
	"GET /admin/tokens":                        nil,
	"POST /admin/tokens":                       {"name", "role"},
	"POST /admin/tokens/:id/revoke":            nil,
	"GET /admin/audit":                         {"action", "before"},
	"GET /admin/users/:id/erase":               nil,
	"POST /admin/users/:id/erase":              {"confirm_id", "revoke_at_smile"},
	"GET /admin/attention":                     {"status", "kind", "user", "account", "cursor", "limit"},
	"POST /admin/users/:id/check":              nil,
	"POST /admin/accounts/:id/check":           nil,
	"GET /admin/search":                        {"q", "kind", "type", "user", "account", "provider", "from", "to", "before", "cursor", "limit"},
	"GET /admin/export/users":                  {"format", "q", "status", "provider"},
	"GET /admin/export/users/:id/timeline":     {"format", "account", "kind", "range", "from", "to", "tz"},
	"GET /admin/export/events":                 {"format", "type", "user", "account", "outcome", "range", "from", "to", "tz"},
	"GET /admin/export/search":                 {"format", "q", "kind", "type", "user", "account", "provider", "from", "to"},

	"GET /api/v1/users":                     {"q", "status", "provider", "cursor", "limit"},
	"GET /api/v1/users/:id":                 nil,
	"GET /api/v1/users/:id/timeline":        {"account", "kind", "cursor", "limit"},
	"GET /api/v1/events":                    {"type", "account", "outcome", "user", "cursor", "limit"},
	"GET /api/v1/events/:id":                nil,
	"GET /api/v1/deliveries":                {"outcome", "reason", "cursor", "limit"},
	"GET /api/v1/funnel":                    {"range"},
	"GET /api/v1/overview":                  {"range"},
	"GET /api/v1/links":                     {"before"},
	"POST /api/v1/links":                    nil, // a JSON body
	"POST /api/v1/links/:id/revoke":         nil,
	"GET /api/v1/gaps":                      {"status", "kind", "user", "account", "cursor", "limit"},
	"GET /api/v1/accounts/:id/lifecycle":    nil,
	"GET /api/v1/stale":                     nil,
	"GET /api/v1/search":                    {"q", "kind", "type", "user", "account", "provider", "from", "to", "cursor", "limit"},
	"GET /api/v1/export/users":              {"format", "q", "status", "provider"},
	"GET /api/v1/export/users/:id/timeline": {"format", "account", "kind", "range", "from", "to", "tz"},
	"GET /api/v1/export/events":             {"format", "type", "user", "account", "outcome", "range", "from", "to", "tz"},
	"GET /api/v1/export/search":             {"format", "q", "kind", "type", "user", "account", "provider", "from", "to"},
	"GET /api/v1/openapi.json":              nil,
}

// TestHostileInput_NULIsABadRequest sends NUL, and bytes that are not UTF-8,
// in every query parameter and form field of every route the app serves, in
// the name and in the value, on both stores: always 400 naming the parameter,
// never 500 (PostgreSQL text can hold neither) and never a page built from it.
func TestHostileInput_NULIsABadRequest(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		a := appOn(t, store)
		admin := a.signIn(t, handlers.RoleAdmin)
		token, _ := createTestToken(t, a, handlers.RoleAdmin)
		// send makes the request as its caller would: the admin session (with
		// its CSRF token) under /admin, the bearer token under /api. It gives
		// up after a while: a route that took the NUL might stream forever.
		send := func(req *http.Request) (response, error) {
			switch {
			case strings.HasPrefix(req.URL.Path, "/admin") || req.URL.Path == "/logout":
				for _, c := range admin.cookies {
					req.AddCookie(c)
				}
				req.Header.Set("X-CSRF-Token", admin.csrf)
			case strings.HasPrefix(req.URL.Path, "/api/"):
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := a.app.Test(req, 10_000) // milliseconds
			if err != nil {
				return response{}, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return response{status: resp.StatusCode, body: string(b)}, err
		}
		seen := map[string]bool{}
		for _, r := range a.app.GetRoutes(true) {
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				continue // HEAD mirrors GET
			}
			route := r.Method + " " + r.Path
			seen[route] = true
			params, ok := routeInputs[route]
			if !ok {
				t.Errorf("%s is not in routeInputs: list the query parameters and form fields it reads", route)
				continue
			}
			if len(params) == 0 {
				params = []string{"unused"}
			}
			path := fillRouteParams(r.Path)
			for _, p := range params {
				for _, enc := range []string{p + "=a%00b", p + "%00=1", p + "=a%FFb", p + "%C3=1"} {
					req := httptest.NewRequest(r.Method, path+"?"+enc, nil)
					where := "query parameter"
					if r.Method == http.MethodPost {
						req = httptest.NewRequest(r.Method, path, strings.NewReader(enc))
						req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						where = "form field"
					}
					got, err := send(req)
					if err != nil {
						t.Errorf("%s %s with %s: %v", r.Method, path, enc, err)
						continue
					}
					want := "in the " + where + " " + strconv.Quote(p) + "; remove it"
					if got.status != http.StatusBadRequest || !strings.Contains(readableBody(got.body), want) {
						t.Errorf("%s %s with %s: got %d %.300s, want 400 saying %q", r.Method, path, enc, got.status, got.body, want)
					}
				}
			}
		}
		for route := range routeInputs {
			if !seen[route] {
				t.Errorf("routeInputs lists %s, which the app does not serve", route)
			}
		}
		if got := admin.get(t, "/admin/users?q=plain"); got.status != http.StatusOK {
			t.Errorf("the same route without NUL: got %d, want 200", got.status)
		}
	})
}

// readableBody undoes the escaping of an HTML page or a JSON error, so a
// message can be matched as written.
func readableBody(body string) string {
	return strings.ReplaceAll(html.UnescapeString(body), `\"`, `"`)
}

// TestDeliveries_SignatureMissingAndMismatchExplainedApart records a webhook
// without a signature and one with a wrong signature: two reasons, each with
// its own advice on the deliveries page.
func TestDeliveries_SignatureMissingAndMismatchExplainedApart(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	body := smiletest.Event("USER_CREATED")
	if got := a.do(t, webhookRequest(body, "")); got.status != http.StatusUnauthorized {
		t.Fatalf("missing: got %d", got.status)
	}
	if got := a.do(t, webhookRequest(body, smile.SignatureFor([]byte("another-secret"), body))); got.status != http.StatusUnauthorized {
		t.Fatalf("mismatch: got %d", got.status)
	}
	waitForDelivery(t, a, models.ReasonSignatureMissing)
	waitForDelivery(t, a, models.ReasonSignatureMismatch)
	page := a.signIn(t, handlers.RoleViewer).get(t, "/admin/deliveries")
	for _, want := range []string{"signature_missing", "dropping the header", "signature_mismatch", "secret registered with Smile"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the deliveries page lacks %q", want)
		}
	}
	missing := a.signIn(t, handlers.RoleViewer).get(t, "/admin/deliveries?reason=signature_missing")
	if strings.Contains(missing.body, "secret registered with Smile") {
		t.Error("filtering by signature_missing still shows the mismatch advice")
	}
}

// TestHostileInput_NULInAJSONLinkLabel: a JSON body can carry "\u0000",
// which the edge's form and query check never sees; the link's validation
// refuses it (422 naming the field) on both stores instead of a 500 on
// PostgreSQL or a NUL stored on SQLite.
func TestHostileInput_NULInAJSONLinkLabel(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		a := appOn(t, store)
		token, _ := createTestToken(t, a, handlers.RoleAdmin)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/links", strings.NewReader(`{"external_ref":"crm-1","label":"Ana\u0000"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		got := a.do(t, req)
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, `"label"`) {
			t.Errorf("got %d %.300s, want 422 naming the label", got.status, got.body)
		}
	})
}
