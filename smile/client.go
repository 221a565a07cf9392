package smile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Base URLs of Smile's REST API (smile-api.md §4.1). A key and secret work
// against one of them only.
const (
	SandboxBaseURL    = "https://sandbox.smileapi.io/v1"
	ProductionBaseURL = "https://open.smileapi.io/v1"
)

// Defaults applied by NewClient to zero ClientConfig fields.
const (
	DefaultRequestsPerSecond = 20 // Smile's documented limit per IP (smile-api.md §4.3)
	DefaultMaxRetries        = 3
	DefaultTimeout           = 15 * time.Second
)

const (
	maxResponseBytes = 10 << 20
	backoffBase      = 250 * time.Millisecond
	backoffCap       = 5 * time.Second
	maxRetryAfter    = 30 * time.Second
	userAgent        = "smiledash-smile-client/1"
)

// ClientConfig configures a Client. BaseURL, APIKey and APISecret are required.
type ClientConfig struct {
	// BaseURL includes the version, e.g. SandboxBaseURL.
	BaseURL   string
	APIKey    string
	APISecret string
	// HTTPClient defaults to an http.Client with a DefaultTimeout timeout.
	HTTPClient *http.Client
	// RequestsPerSecond caps the client's own request rate; 0 means
	// DefaultRequestsPerSecond and a negative value means no limit.
	RequestsPerSecond float64
	// MaxRetries is how many times a failed call is retried; 0 means
	// DefaultMaxRetries and a negative value means never.
	MaxRetries int
	// Backoff returns the wait before retry n (1, 2, …); the default is
	// exponential from 250ms, capped at 5s, with jitter.
	Backoff func(retry int) time.Duration
	// Sleep waits d or until ctx is done; tests replace it to skip real waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client calls the Smile REST API. It is safe for concurrent use.
//
// Retries: calls are retried with backoff on 429, on 5xx other than 501 and on
// transport errors, honouring ctx while waiting. POST is not idempotent at
// Smile (there are no idempotency keys), so POST /users, /tokens and /webhooks
// are retried only when Smile cannot have acted on them: 429 (rejected by the
// rate limiter), 502/503/504 (the gateway had no healthy backend) and dial
// errors (nothing was sent). A 504 may in rare cases follow a request Smile
// did process; the cost is then an unused user or token, or a duplicate
// webhook, which is preferable to failing a user-facing Link flow.
type Client struct {
	baseURL    string
	key        string
	secret     string
	http       *http.Client
	limiter    *rate.Limiter
	maxRetries int
	backoff    func(int) time.Duration
	sleep      func(context.Context, time.Duration) error
}

// NewClient checks cfg, fills in defaults and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("smile: new client: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, errors.New("smile: new client: API key and secret are required")
	}
	c := &Client{
		baseURL:    strings.TrimRight(cfg.BaseURL, "/"),
		key:        cfg.APIKey,
		secret:     cfg.APISecret,
		http:       cfg.HTTPClient,
		maxRetries: cfg.MaxRetries,
		backoff:    cfg.Backoff,
		sleep:      cfg.Sleep,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.backoff == nil {
		c.backoff = defaultBackoff
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	rps := cfg.RequestsPerSecond
	switch {
	case rps == 0:
		c.limiter = rate.NewLimiter(DefaultRequestsPerSecond, 1)
	case rps < 0:
		c.limiter = rate.NewLimiter(rate.Inf, 1)
	default:
		c.limiter = rate.NewLimiter(rate.Limit(rps), 1)
	}
	return c, nil
}

// defaultBackoff is exponential with "equal jitter": half the step is fixed,
// half random, so concurrent clients spread out but never retry at once.
func defaultBackoff(retry int) time.Duration {
	d := backoffCap
	if retry < 16 {
		d = min(backoffBase<<max(retry-1, 0), backoffCap)
	}
	return d/2 + rand.N(d/2+1)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// request describes one API call. path is relative to the base URL and
// already escaped; out, when set, receives the envelope's data.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	out    any
}

// do runs a call with rate limiting and retries and decodes the envelope.
func (c *Client) do(ctx context.Context, r request) error {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("smile: %s %s: encode body: %w", r.method, r.path, err)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var lastErr error
	var wait time.Duration
	ambiguous := false // an earlier attempt may have reached Smile and acted
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, max(wait, c.backoff(attempt))); err != nil {
				return fmt.Errorf("smile: %s %s: retry wait: %w (last error: %v)", r.method, r.path, err, lastErr)
			}
		}
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("smile: %s %s: rate limiter: %w", r.method, r.path, err)
		}
		resp, err := c.send(ctx, r.method, target, payload)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("smile: %s %s: %w", r.method, r.path, ctx.Err())
			}
			lastErr = fmt.Errorf("smile: %s %s: %w", r.method, r.path, err)
			if attempt < c.maxRetries && retryableTransportError(r.method, err) {
				ambiguous = ambiguous || !isDialError(err)
				wait = 0
				continue
			}
			return giveUp(attempt, lastErr)
		}
		if resp.status >= 200 && resp.status < 300 {
			return decodeData(r, resp)
		}
		apiErr := newAPIError(r.method, r.path, resp.status, resp.body)
		if r.method == http.MethodDelete && resp.status == http.StatusNotFound && ambiguous {
			// An earlier attempt probably deleted it before its answer was lost.
			return nil
		}
		if attempt < c.maxRetries && retryableStatus(r.method, resp.status) {
			lastErr = apiErr
			ambiguous = ambiguous || resp.status != http.StatusTooManyRequests
			wait = retryAfter(resp.header)
			continue
		}
		return giveUp(attempt, apiErr)
	}
}

func giveUp(attempt int, err error) error {
	if attempt == 0 {
		return err
	}
	return fmt.Errorf("smile: gave up after %d attempts: %w", attempt+1, err)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *Client) send(ctx context.Context, method, target string, payload []byte) (response, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return response{}, fmt.Errorf("read response: %w", err)
	}
	if len(b) > maxResponseBytes {
		return response{}, fmt.Errorf("response larger than %d bytes", maxResponseBytes)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func decodeData(r request, resp response) error {
	var env struct {
		Code      string          `json:"code"`
		RequestID string          `json:"requestId"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return fmt.Errorf("smile: %s %s: decode HTTP %d response: %w", r.method, r.path, resp.status, err)
	}
	if r.out == nil {
		return nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("smile: %s %s: response has no data (request id %s)", r.method, r.path, env.RequestID)
	}
	if err := json.Unmarshal(env.Data, r.out); err != nil {
		return fmt.Errorf("smile: %s %s: decode data (request id %s): %w", r.method, r.path, env.RequestID, err)
	}
	return nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPut, http.MethodOptions:
		return true
	}
	return false
}

func retryableStatus(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusNotImplemented:
		return false
	}
	return status >= 500 && idempotent(method)
}

func retryableTransportError(method string, err error) bool {
	return idempotent(method) || isDialError(err)
}

// isDialError reports whether the request failed before any byte was sent:
// DNS failure, connection refused, dial timeout.
func isDialError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// retryAfter reads an optional Retry-After header. Smile does not document one
// (smile-api.md §4.3), but proxies in front of it may send it.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), maxRetryAfter)
}

// CreateUser creates a user with optional externalMetadata and returns it
// with its first Link token (POST /users). The metadata is checked against
// Smile's limits before anything is sent.
func (c *Client) CreateUser(ctx context.Context, externalMetadata map[string]string) (User, Token, error) {
	if err := ValidateExternalMetadata(externalMetadata); err != nil {
		return User{}, Token{}, err
	}
	body := struct {
		ExternalMetadata map[string]string `json:"externalMetadata,omitempty"`
	}{externalMetadata}
	var out struct {
		User  User  `json:"user"`
		Token Token `json:"token"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/users", body: body, out: &out}); err != nil {
		return User{}, Token{}, err
	}
	if out.User.ID == "" || out.Token.AccessToken == "" {
		return User{}, Token{}, errors.New("smile: POST /users: response lacks user id or access token")
	}
	return out.User, out.Token, nil
}

// RefreshToken issues a new Link token for an existing user (POST /tokens?userId=).
func (c *Client) RefreshToken(ctx context.Context, userID string) (Token, error) {
	if err := checkID("user id", userID); err != nil {
		return Token{}, err
	}
	var tok Token
	q := url.Values{"userId": {userID}}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/tokens", query: q, out: &tok}); err != nil {
		return Token{}, err
	}
	if tok.AccessToken == "" {
		return Token{}, errors.New("smile: POST /tokens: response lacks access token")
	}
	return tok, nil
}

// User returns one user (GET /users/{id}).
func (c *Client) User(ctx context.Context, id string) (User, error) {
	var u User
	err := c.get(ctx, "user id", "/users/", id, &u)
	return u, err
}

// Accounts returns one page of accounts (GET /accounts). An empty userID lists
// every account of the tenant; an empty cursor starts at the first page; size
// 0 lets Smile choose (10), otherwise it must be 1..150.
func (c *Client) Accounts(ctx context.Context, userID, cursor string, size int) (AccountPage, error) {
	q, err := pageQuery(cursor, size)
	if err != nil {
		return AccountPage{}, err
	}
	if userID != "" {
		q.Set("userId", userID)
	}
	var out struct {
		NextCursor *string   `json:"nextCursor"`
		Items      []Account `json:"items"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/accounts", query: q, out: &out}); err != nil {
		return AccountPage{}, err
	}
	return AccountPage{Items: out.Items, NextCursor: deref(out.NextCursor)}, nil
}

// AllAccounts returns every account of a user, following nextCursor with the
// largest page size.
func (c *Client) AllAccounts(ctx context.Context, userID string) ([]Account, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, err
	}
	var all []Account
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := c.Accounts(ctx, userID, cursor, MaxPageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		if seen[page.NextCursor] {
			return nil, fmt.Errorf("smile: list accounts of %s: cursor %q repeats", userID, page.NextCursor)
		}
		seen[page.NextCursor] = true
		cursor = page.NextCursor
	}
}

// Account returns one account (GET /accounts/{id}).
func (c *Client) Account(ctx context.Context, id string) (Account, error) {
	var a Account
	err := c.get(ctx, "account id", "/accounts/", id, &a)
	return a, err
}

// RevokeAccount deletes an account and its data at Smile (DELETE /accounts/{id}).
func (c *Client) RevokeAccount(ctx context.Context, id string) error {
	if err := checkID("account id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/accounts/" + url.PathEscape(id)})
}

// CreateWebhook registers a webhook endpoint (POST /webhooks). Smile is the
// judge of the request: it answers 400 INVALID_PARAMETERS for a URL that is
// not https or a secret outside 1..64 characters.
func (c *Client) CreateWebhook(ctx context.Context, req WebhookRequest) (Webhook, error) {
	if req.EventTypes == nil {
		req.EventTypes = []string{}
	}
	var w Webhook
	if err := c.do(ctx, request{method: http.MethodPost, path: "/webhooks", body: req, out: &w}); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Webhooks returns one page of registered webhooks (GET /webhooks); cursor and
// size work as in Accounts.
func (c *Client) Webhooks(ctx context.Context, cursor string, size int) (WebhookPage, error) {
	q, err := pageQuery(cursor, size)
	if err != nil {
		return WebhookPage{}, err
	}
	var out struct {
		NextCursor *string   `json:"nextCursor"`
		Items      []Webhook `json:"items"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/webhooks", query: q, out: &out}); err != nil {
		return WebhookPage{}, err
	}
	return WebhookPage{Items: out.Items, NextCursor: deref(out.NextCursor)}, nil
}

// Webhook returns one registered webhook (GET /webhooks/{id}).
func (c *Client) Webhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	err := c.get(ctx, "webhook id", "/webhooks/", id, &w)
	return w, err
}

// DeleteWebhook removes a webhook endpoint (DELETE /webhooks/{id}).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := checkID("webhook id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/webhooks/" + url.PathEscape(id)})
}

func (c *Client) get(ctx context.Context, what, prefix, id string, out any) error {
	if err := checkID(what, id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodGet, path: prefix + url.PathEscape(id), out: out})
}

// checkID applies the spec's id parameter limits (1..200 characters).
func checkID(what, id string) error {
	if id == "" || len(id) > 200 {
		return fmt.Errorf("%w: %s must be 1..200 characters", ErrInvalidArgument, what)
	}
	return nil
}

func pageQuery(cursor string, size int) (url.Values, error) {
	if size < 0 || size > MaxPageSize {
		return nil, fmt.Errorf("%w: page size %d is outside 1..%d", ErrInvalidArgument, size, MaxPageSize)
	}
	q := url.Values{}
	if size > 0 {
		q.Set("size", strconv.Itoa(size))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
