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
