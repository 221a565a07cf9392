package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/smile/smiletest"
)

// apiSpec is the embedded OpenAPI document, loaded and routable.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

// specHost stands in for wherever smiledash runs: the document's server is
// relative (/api/v1), the router needs an absolute one.
const specHost = "http://smiledash.test/api/v1"

func loadAPISpec(t *testing.T) *apiSpec {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(handlers.OpenAPIDocument())
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: specHost}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &apiSpec{doc: doc, router: router}
}

func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return in.NewError(errors.New("no bearer token"))
	}
	return nil
}

// validate checks one exchange against the document and returns the path
// template it matched. Streamed exports (CSV, NDJSON) are checked here too:
// NDJSON line by line against the media type's schema, CSV by its header.
func (s *apiSpec) validate(t *testing.T, method, path, body string, header http.Header, got response) string {
	t.Helper()
	ctx := context.Background()
	req, _ := http.NewRequest(method, specHost+strings.TrimPrefix(path, "/api/v1"), strings.NewReader(body))
	req.Header = header.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s is not in the OpenAPI document: %v", method, path, err)
		return ""
	}
	contentType, _, _ := strings.Cut(got.header.Get("Content-Type"), ";")
	streamed := contentType == "text/csv" || contentType == "application/x-ndjson"
	opts := &openapi3filter.Options{AuthenticationFunc: bearerPresent, IncludeResponseStatus: true, MultiError: true,
		ExcludeResponseBody: streamed}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && got.status < 400 {
		t.Errorf("%s %s: the request breaks the document: %v", method, path, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: got.status, Header: got.header, Options: opts}
	out.SetBodyBytes([]byte(got.body))
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: the %d response breaks the document: %v\n%.400s", method, path, got.status, err, got.body)
	}
	if streamed {
		s.validateStream(t, route, got.status, contentType, got.body)
	}
	return route.Path
}

func (s *apiSpec) validateStream(t *testing.T, route *routers.Route, status int, contentType, body string) {
	t.Helper()
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value.Content.Get(contentType) == nil {
		t.Errorf("%s: %d %s is not documented", route.Path, status, contentType)
		return
	}
	media := resp.Value.Content.Get(contentType)
	if contentType == "text/csv" {
		header, err := csv.NewReader(strings.NewReader(body)).Read()
		want, _ := json.Marshal(media.Extensions["x-columns"])
		if got, _ := json.Marshal(header); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: got CSV columns %s (%v), want x-columns %s", route.Path, got, err, want)
		}
		return
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Errorf("%s: NDJSON line is not JSON: %s", route.Path, sc.Text())
			continue
		}
		if err := media.Schema.Value.VisitJSON(v); err != nil {
			t.Errorf("%s: NDJSON line breaks the schema: %v\n%s", route.Path, err, sc.Text())
		}
	}
}

// fiberParam turns /users/:id into the document's /users/{id}.
var fiberParam = regexp.MustCompile(`:(\w+)`)

// TestOpenAPI_EveryRouteDocumentedAndEveryResponseValid calls every /api/v1
// route on seeded data, with good and bad input, and validates each request
// and response against the embedded document. It fails for a route the
// document does not describe, an operation no route serves, and a route no
// scenario reaches with a 2xx, so the document stays true as the API grows.
func TestOpenAPI_EveryRouteDocumentedAndEveryResponseValid(t *testing.T) {
	a := newConnectApp(t)
	seedPages(t, a.testApp, 3)
	seedEmployers(t, a.testApp)
	ctx := context.Background()
	u, err := a.store.UserByID(ctx, "user-emp")
	if err != nil {
		t.Fatal(err)
	}
	cb := &models.Callback{ReceivedAt: u.LastSeenAt.Add(1), UserKey: &u.UserKey, Name: "onAccountConnected", AccountID: "acc-emp",
		Args: json.RawMessage(`{"accountId":"acc-emp","providerId":"siam-payroll"}`)}
	if err := a.store.CreateCallback(ctx, cb); err != nil {
		t.Fatal(err)
	}
	indexSearch(t, a.store)
	adminToken, _ := createTestToken(t, a.testApp, handlers.RoleAdmin)
	viewerToken, _ := createTestToken(t, a.testApp, handlers.RoleViewer)
	fixtureUser := "/api/v1/users/" + smiletest.FixtureUserID
	spec := loadAPISpec(t)

	type scenario struct {
		method, path, token, body string
		want                      int
	}
	scenarios := []scenario{
		{"GET", "/api/v1/users", viewerToken, "", 200},
		{"GET", "/api/v1/users?q=user&status=CREATED&provider=prov&limit=2", viewerToken, "", 200},
		{"GET", "/api/v1/users?cursor=forged", viewerToken, "", 400},
		{"GET", "/api/v1/users", "", "", 401},
		{"GET", fixtureUser, viewerToken, "", 200},
		{"GET", "/api/v1/users/user-emp", viewerToken, "", 200},
		{"GET", "/api/v1/users/nobody", viewerToken, "", 404},
		{"GET", fixtureUser + "/timeline?limit=5", viewerToken, "", 200},
		{"GET", "/api/v1/users/user-emp/timeline?kind=callback", viewerToken, "", 200},
		{"GET", "/api/v1/users/nobody/timeline", viewerToken, "", 404},
		{"GET", "/api/v1/events?limit=3", viewerToken, "", 200},
		{"GET", "/api/v1/events?type=EMPLOYMENTS_ADDED&user=user-emp&outcome=duplicated", viewerToken, "", 200},
		{"GET", "/api/v1/events?cursor=1.2", viewerToken, "", 400},
		{"GET", "/api/v1/events/1", viewerToken, "", 200},
		{"GET", "/api/v1/events/et-emp-a", viewerToken, "", 200},
		{"GET", "/api/v1/events/999999", viewerToken, "", 404},
		{"GET", "/api/v1/deliveries", viewerToken, "", 200},
		{"GET", "/api/v1/deliveries?outcome=rejected&reason=bad_signature&limit=1", viewerToken, "", 200},
		{"GET", "/api/v1/links", viewerToken, "", 200},
		{"POST", "/api/v1/links", adminToken, `{"external_ref":"crm-1","label":"Budi","expires_in":"24h"}`, 201},
		{"POST", "/api/v1/links", adminToken, `{"external_ref":"crm-1","expires_in":"soon"}`, 422},
		{"POST", "/api/v1/links", adminToken, `not json`, 400},
		{"POST", "/api/v1/links", viewerToken, `{"external_ref":"crm-2"}`, 403},
		{"GET", "/api/v1/links?before=1000", viewerToken, "", 200},
		{"POST", "/api/v1/links/1/revoke", adminToken, "", 200},
		{"POST", "/api/v1/links/424242/revoke", adminToken, "", 404},
		{"GET", "/api/v1/search?q=siam", viewerToken, "", 200},
		{"GET", "/api/v1/search?q=siam&kind=callback&user=user-emp&account=acc-emp&from=2026-01-01T00:00:00Z&limit=1", viewerToken, "", 200},
		{"GET", "/api/v1/search?q=%20", viewerToken, "", 400},
		{"GET", "/api/v1/export/users?format=csv", viewerToken, "", 200},
		{"GET", "/api/v1/export/users?format=ndjson&provider=prov", viewerToken, "", 200},
		{"GET", "/api/v1/export/users?format=xml", viewerToken, "", 400},
		{"GET", "/api/v1/export/users/user-emp/timeline?format=ndjson", viewerToken, "", 200},
		{"GET", fixtureUser + "/timeline", viewerToken, "", 200},
		{"GET", "/api/v1/export/users/nobody/timeline", viewerToken, "", 404},
		{"GET", "/api/v1/export/users/user-emp/timeline", viewerToken, "", 200},
		{"GET", "/api/v1/export/events", viewerToken, "", 200},
		{"GET", "/api/v1/export/events?format=ndjson&type=EMPLOYMENTS_ADDED", viewerToken, "", 200},
		{"GET", "/api/v1/export/search?q=siam&format=ndjson", viewerToken, "", 200},
		{"GET", "/api/v1/export/search?q=siam", viewerToken, "", 200},
		{"GET", "/api/v1/openapi.json", viewerToken, "", 200},
	}
	// Scenarios run in order: link 1 is created before it is revoked.
	reached := map[string]bool{} // "GET /users/{id}" reached with a 2xx
	for _, sc := range scenarios {
		t.Run(fmt.Sprintf("%s %s %d", sc.method, sc.path, sc.want), func(t *testing.T) {
			req := httptest.NewRequest(sc.method, sc.path, strings.NewReader(sc.body))
			if sc.token != "" {
				req.Header.Set("Authorization", "Bearer "+sc.token)
			}
			if sc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			got := a.do(t, req)
			if got.status != sc.want {
				t.Fatalf("got %d, want %d: %.300s", got.status, sc.want, got.body)
			}
			if p := spec.validate(t, sc.method, sc.path, sc.body, req.Header, got); p != "" && got.status < 300 {
				reached[sc.method+" "+p] = true
			}
		})
	}

	served := map[string]bool{}
	for _, r := range a.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || (r.Method != http.MethodGet && r.Method != http.MethodPost &&
			r.Method != http.MethodPut && r.Method != http.MethodPatch && r.Method != http.MethodDelete) {
			continue
		}
		key := r.Method + " " + fiberParam.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/v1"), "{$1}")
		served[key] = true
		if !reached[key] {
			t.Errorf("%s is served but no scenario reached it with a 2xx (is it in the OpenAPI document?)", key)
		}
	}
	for path, item := range spec.doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is in the OpenAPI document but no route serves it", method, path)
			}
		}
	}
}
