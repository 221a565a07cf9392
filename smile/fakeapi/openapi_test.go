package fakeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/smiletest"
)

// specValidator checks request/response exchanges against Smile's official
// OpenAPI spec (smiletest.OpenAPI, which already tolerates nulls everywhere).
type specValidator struct {
	router routers.Router
}

func newSpecValidator(t testing.TB) *specValidator {
	t.Helper()
	doc, err := smiletest.OpenAPI()
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	// The spec's own examples have slips (a `stust` key in an Account example),
	// which is why smiletest validates it without examples too.
	router, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		t.Fatalf("build router: %v", err)
	}
	return &specValidator{router: router}
}

// exchange is one request and its answer, bodies read into memory.
type exchange struct {
	method, target string // target is relative to the API base, e.g. "/accounts?size=2"
	header         http.Header
	body           []byte
	status         int
	respHeader     http.Header
	respBody       []byte
}

// check returns the operation id, the request's violations and the response's.
func (v *specValidator) check(ctx context.Context, ex exchange) (op string, reqErr, respErr error) {
	// The spec's servers are Smile's hosts: route the request as if it went there.
	u, err := url.Parse(smile.SandboxBaseURL + ex.target)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", ex.target, err), nil
	}
	req, err := http.NewRequestWithContext(ctx, ex.method, u.String(), bytes.NewReader(ex.body))
	if err != nil {
		return "", err, nil
	}
	req.Header = ex.header.Clone()
	req.ContentLength = int64(len(ex.body))
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s is not in the spec: %w", ex.method, ex.target, err), nil
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:                basicAuthPresent,
		RejectWhenRequestBodyNotSpecified: true,
		IncludeResponseStatus:             true,
		SkipSettingDefaults:               true,
		MultiError:                        true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	reqErr = openapi3filter.ValidateRequest(ctx, in)
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: ex.status, Header: ex.respHeader, Options: opts,
	}
	respIn.SetBodyBytes(tolerate(ex.status, ex.respBody))
	respErr = openapi3filter.ValidateResponse(ctx, respIn)
	return route.Operation.OperationID, reqErr, respErr
}

// tolerate rewrites the one documented spec slip the fake reproduces, so the
// rest of the body is still checked: Smile's error table pairs HTTP 415 with
// code UNSUPPORTED_TYPE, which the spec's ObjectMetadataRefCode enum lacks
// (smile-api.md §4.2 and §8 item 19). Nothing else is tolerated.
func tolerate(status int, body []byte) []byte {
	if status != http.StatusUnsupportedMediaType {
		return body
	}
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil || env["code"] != smile.CodeUnsupportedType {
		return body
	}
	env["code"] = smile.CodeInvalidParameters
	out, err := json.Marshal(env)
	if err != nil {
		return body
	}
	return out
}

// basicAuthPresent accepts any HTTP Basic credentials: whether they are the
// right ones is the fake's business, not the spec's.
func basicAuthPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "basic" {
		return in.NewError(errors.New("not the basicAuth scheme"))
	}
	if _, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok {
		return in.NewError(errors.New("no Basic credentials"))
	}
	return nil
}

type invalidRequestKey struct{}

// expectInvalidRequest marks a call whose request deliberately breaks the
// spec (to reach the fake's own input checks): the validating transport then
// requires the request to fail validation, and still checks the response.
func expectInvalidRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, invalidRequestKey{}, true)
}

// specTransport validates every exchange that passes through it and reports
// violations with errorf (t.Errorf in tests). It also records which
// operation/status pairs it has seen.
type specTransport struct {
	validator *specValidator
	next      http.RoundTripper
	basePath  string // the client's base path, stripped before routing
	errorf    func(format string, args ...any)

	mu   sync.Mutex
	seen map[string]bool // "operationId status"
}

func newSpecTransport(t testing.TB, next http.RoundTripper) *specTransport {
	return &specTransport{validator: newSpecValidator(t), next: next, basePath: "/v1", errorf: t.Errorf, seen: map[string]bool{}}
}

// RoundTrip forwards the request and validates both directions.
func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := s.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	target := strings.TrimPrefix(req.URL.EscapedPath(), s.basePath)
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	op, reqErr, respErr := s.validator.check(req.Context(), exchange{
		method: req.Method, target: target, header: req.Header, body: reqBody,
		status: resp.StatusCode, respHeader: resp.Header, respBody: respBody,
	})
	wantInvalid, _ := req.Context().Value(invalidRequestKey{}).(bool)
	switch {
	case op == "":
		s.errorf("%s %s: %v", req.Method, target, reqErr)
		return resp, nil
	case wantInvalid && reqErr == nil:
		s.errorf("%s %s: request is valid per the spec, want a deliberate violation", req.Method, target)
	case !wantInvalid && reqErr != nil:
		s.errorf("%s %s: request violates the spec: %v", req.Method, target, reqErr)
	}
	if respErr != nil {
		s.errorf("%s %s: HTTP %d response violates the spec: %v\nbody: %s", req.Method, target, resp.StatusCode, respErr, respBody)
	}
	s.mu.Lock()
	s.seen[fmt.Sprintf("%s %d", op, resp.StatusCode)] = true
	s.mu.Unlock()
	return resp, nil
}

func (s *specTransport) covered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIConformance runs every client operation, with a success and an
// error answer each, through the validating transport.
func TestOpenAPIConformance(t *testing.T) {
	env := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	c := env.client

	user, _, err := c.CreateUser(ctx, map[string]string{"ref": "42"})
	must(t, err)
	_, err = c.RefreshToken(ctx, user.ID)
	must(t, err)
	_, err = c.User(ctx, user.ID)
	must(t, err)
	acct, err := env.srv.AddAccount(user.ID, "grab", smile.ConnectionError, ptr("ACCOUNT_LOCKED"))
	must(t, err)
	_, err = env.srv.AddAccount(user.ID, "upwork", smile.ConnectionConnected, nil)
	must(t, err)
	_, err = c.Accounts(ctx, user.ID, "", 1) // a page with a nextCursor
	must(t, err)
	_, err = c.AllAccounts(ctx, user.ID)
	must(t, err)
	_, err = c.Account(ctx, acct.ID)
	must(t, err)
	must(t, c.RevokeAccount(ctx, acct.ID))
	hook, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "n", URL: "https://hooks.example.com/smile",
		EventTypes: []string{"ACCOUNT_CONNECTED", "ALL_EVENTS"}, Active: true, Secret: "s3cret", IncludePayload: true})
	must(t, err)
	_, err = c.Webhooks(ctx, "", 0)
	must(t, err)
	_, err = c.Webhook(ctx, hook.ID)
	must(t, err)
	must(t, c.DeleteWebhook(ctx, hook.ID))

	// Error answers, each of which the client must surface as an APIError.
	errs := []error{
		func() error { _, err := c.RefreshToken(ctx, "sandbox-00000000000000000000000000000000"); return err }(),
		func() error { _, err := c.User(ctx, "nobody"); return err }(),
		func() error { _, err := c.Accounts(ctx, user.ID, "not-a-cursor", 0); return err }(),
		func() error { _, err := c.Account(ctx, acct.ID); return err }(),
		c.RevokeAccount(ctx, acct.ID),
		func() error {
			_, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "n", URL: "http://insecure.example.com",
				EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s"})
			return err
		}(),
		func() error { _, err := c.Webhooks(ctx, "bad", 0); return err }(),
		func() error { _, err := c.Webhook(ctx, hook.ID); return err }(),
		c.DeleteWebhook(ctx, hook.ID),
		func() error { _, _, err := env.badAuthClient(t).CreateUser(ctx, nil); return err }(),
	}
	for i, err := range errs {
		if _, ok := smile.AsAPIError(err); !ok {
			t.Errorf("error case %d: got %v, want an *smile.APIError", i, err)
		}
	}

	want := []string{
		"create-token 201", "create-token 404",
		"create-user 201", "create-user 400",
		"create-webhook 200", "create-webhook 400",
		"delete-account 200", "delete-account 404",
		"delete-webhook 200", "delete-webhook 404",
		"get-account 200", "get-account 404",
		"get-user 200", "get-user 404",
		"get-webhook 200", "get-webhook 404",
		"list-accounts 200", "list-accounts 400",
		"list-webhooks 200", "list-webhooks 400",
	}
	if got := env.spec.covered(); !slices.Equal(got, want) {
		t.Errorf("operations exercised:\ngot  %q\nwant %q", got, want)
	}
}

// TestSpecValidatorRejects proves the validator is not a rubber stamp: each
// deliberately wrong exchange must be reported.
func TestSpecValidatorRejects(t *testing.T) {
	v := newSpecValidator(t)
	auth := http.Header{"Authorization": {"Basic a2V5OnNlY3JldA=="}, "Content-Type": {"application/json"}}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	okEnvelope := func(data string) []byte {
		return []byte(`{"code":"OK","message":"Success","requestId":"r","data":` + data + `}`)
	}
	const account = `{"id":"a-1","createdAt":"2021-04-14T09:30:24Z","providerId":"grab","userId":"u","connectionStatus":"%s",` +
		`"connection":{"status":"CONNECTED","errorCode":null,"errorMessage":null,"updatedAt":"2021-04-14T09:30:24Z"},` +
		`"monitorStatus":"ACTIVE","monitor":{"status":"ACTIVE","updatedAt":null}}`
	const token = `{"id":"tk-1","accessToken":"a.b.c","expiresAt":"2021-04-14T09:30:24Z","mode":"%s"}`
	const user = `{"id":"u","externalMetadata":{},"createdAt":"2021-04-14T09:30:24Z","providers":[]}`
	tests := []struct {
		name             string
		ex               exchange
		wantReq, wantRsp bool
	}{
		{"valid control", exchange{method: "GET", target: "/accounts/a-1", header: auth, status: 200, respHeader: jsonHeader,
			respBody: okEnvelope(fmt.Sprintf(account, "CONNECTED"))}, false, false},
		{"account status outside the enum", exchange{method: "GET", target: "/accounts/a-1", header: auth, status: 200,
			respHeader: jsonHeader, respBody: okEnvelope(fmt.Sprintf(account, "LINKED"))}, false, true},
		{"account lacks required id", exchange{method: "GET", target: "/accounts/a-1", header: auth, status: 200,
			respHeader: jsonHeader, respBody: okEnvelope(strings.Replace(fmt.Sprintf(account, "CONNECTED"), `"id":"a-1",`, "", 1))}, false, true},
		{"token mode outside the enum", exchange{method: "POST", target: "/tokens?userId=u", header: auth, status: 201,
			respHeader: jsonHeader, respBody: okEnvelope(fmt.Sprintf(token, "TEST"))}, false, true},
		{"create user without data.token", exchange{method: "POST", target: "/users", header: auth, body: []byte(`{}`), status: 201,
			respHeader: jsonHeader, respBody: okEnvelope(`{"user":` + user + `}`)}, false, true},
		{"create webhook answering 201", exchange{method: "POST", target: "/webhooks", header: auth,
			body:   []byte(`{"name":"n","url":"https://x.example","eventTypes":["ALL_EVENTS"],"active":true,"secret":"s"}`),
			status: 201, respHeader: jsonHeader, respBody: okEnvelope(`{}`)}, false, true},
		{"error code outside the enum", exchange{method: "GET", target: "/users/u", header: auth, status: 404,
			respHeader: jsonHeader, respBody: []byte(`{"code":"NOT_FOUND","message":"x","requestId":"r"}`)}, false, true},
		{"415 code slip tolerated only on 415", exchange{method: "GET", target: "/users/u", header: auth, status: 400,
			respHeader: jsonHeader, respBody: []byte(`{"code":"UNSUPPORTED_TYPE","message":"x","requestId":"r"}`)}, false, true},
		{"text/html response", exchange{method: "GET", target: "/users/u", header: auth, status: 200,
			respHeader: http.Header{"Content-Type": {"text/html"}}, respBody: []byte(`<html></html>`)}, false, true},
		{"page size 151", exchange{method: "GET", target: "/accounts?size=151", header: auth, status: 200,
			respHeader: jsonHeader, respBody: okEnvelope(`{"nextCursor":null,"items":[]}`)}, true, false},
		{"webhook without secret", exchange{method: "POST", target: "/webhooks", header: auth,
			body:   []byte(`{"name":"n","url":"https://x.example","eventTypes":["ALL_EVENTS"],"active":true}`),
			status: 400, respHeader: jsonHeader, respBody: []byte(`{"code":"INVALID_PARAMETERS","message":"x","requestId":"r"}`)}, true, false},
		{"token without userId", exchange{method: "POST", target: "/tokens", header: auth, status: 400,
			respHeader: jsonHeader, respBody: []byte(`{"code":"INVALID_PARAMETERS","message":"x","requestId":"r"}`)}, true, false},
		{"token request with a body", exchange{method: "POST", target: "/tokens?userId=u", header: auth, body: []byte(`{"x":1}`),
			status: 201, respHeader: jsonHeader, respBody: okEnvelope(fmt.Sprintf(token, "SANDBOX"))}, true, false},
		{"no credentials", exchange{method: "GET", target: "/users/u", header: http.Header{}, status: 200,
			respHeader: jsonHeader, respBody: okEnvelope(user)}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, reqErr, respErr := v.check(t.Context(), tc.ex)
			if (reqErr != nil) != tc.wantReq {
				t.Errorf("request error: got %v, want error %v", reqErr, tc.wantReq)
			}
			if (respErr != nil) != tc.wantRsp {
				t.Errorf("response error: got %v, want error %v", respErr, tc.wantRsp)
			}
		})
	}
	if _, reqErr, _ := v.check(t.Context(), exchange{method: "GET", target: "/payouts", header: auth, status: 200}); reqErr == nil {
		t.Errorf("unknown path: got nil, want a routing error")
	}
}

// TestSpecTransportReportsBadResponse wires the validating transport to a
// handler that answers with a wrong body and checks it complains.
func TestSpecTransportReportsBadResponse(t *testing.T) {
	var reports []string
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"code":"OK","message":"Success","requestId":"r","data":{"id":42}}`)
	})
	st := newSpecTransport(t, fakeapi.Transport(bad))
	st.errorf = func(format string, args ...any) { reports = append(reports, fmt.Sprintf(format, args...)) }
	c, err := smile.NewClient(smile.ClientConfig{BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "k", APISecret: "s",
		HTTPClient: &http.Client{Transport: st}, RequestsPerSecond: -1})
	must(t, err)
	_, _ = c.Account(t.Context(), "a-1")
	if len(reports) != 1 || !strings.Contains(reports[0], "response violates the spec") {
		t.Errorf("got reports %q, want one response violation", reports)
	}
}
