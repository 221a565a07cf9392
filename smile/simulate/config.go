package simulate

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ErrBadConfig is wrapped by every Config validation error.
var ErrBadConfig = errors.New("simulate: invalid configuration")

// Config says where and how hard Run sends.
type Config struct {
	// URL is the webhook receiver, e.g. http://localhost:8080/webhooks/smile.
	URL string
	// Secret is the webhook secret the bodies are signed with.
	Secret string
	// Tenant prefixes the user ids (DefaultTenant when empty).
	Tenant string
	// Users is how many users' histories to send. With Duration set it is an
	// upper bound, and zero means no bound.
	Users int
	// Concurrency is how many users are sent at once, each by its own worker with
	// its own keep-alive connection (1 when zero).
	Concurrency int
	// Seed makes the run reproducible: the same seed sends the same event ids
	// (and, with the same tenant and start, the same bodies), so a rerun against
	// the same receiver is all duplicates. Use a fresh seed for each benchmark.
	Seed uint64
	// Start is the createdAt of the first user's first event (now when zero).
	Start time.Time
	// Duplicates is the fraction of events delivered a second time, shortly after
	// the first, as Smile's at-least-once delivery does; 0 to 1.
	Duplicates float64
	// Duration, when set, keeps starting new users until it has elapsed; users
	// already started are finished.
	Duration time.Duration
	// HTTPClient sends the requests. When nil, Run uses a client tuned for load:
	// Concurrency idle connections per host, keep-alive, no compression, redirects
	// not followed, a 30s timeout.
	HTTPClient *http.Client
	// Header holds extra headers for every request, such as X-Forwarded-For for a
	// receiver behind a trusted proxy. "Host" sets the request's host.
	Header http.Header
	// ProgressInterval is how often Run writes a progress line (1s when zero).
	ProgressInterval time.Duration
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.URL)
	switch {
	case err != nil:
		return c, fmt.Errorf("%w: url: %v", ErrBadConfig, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return c, fmt.Errorf("%w: url %q is not an absolute http(s) URL", ErrBadConfig, c.URL)
	case c.Secret == "":
		return c, fmt.Errorf("%w: secret is empty", ErrBadConfig)
	case c.Users < 0 || c.Concurrency < 0 || c.Duration < 0 || c.ProgressInterval < 0:
		return c, fmt.Errorf("%w: users, concurrency, duration and progress interval must not be negative", ErrBadConfig)
	case c.Users == 0 && c.Duration == 0:
		return c, fmt.Errorf("%w: set users, duration or both", ErrBadConfig)
	case math.IsNaN(c.Duplicates) || c.Duplicates < 0 || c.Duplicates > 1:
		return c, fmt.Errorf("%w: duplicates is %v, want a fraction from 0 to 1", ErrBadConfig, c.Duplicates)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.Start.IsZero() {
		c.Start = time.Now()
	}
	return c, nil
}

// loadClient returns a client for n concurrent senders to one host, and a function
// that closes its idle connections when the run is over.
func loadClient(n int) (*http.Client, func()) {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   30 * time.Second,
		// A redirect is not an acknowledgement: report the 3xx itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return client, tr.CloseIdleConnections
}

// requestTemplate builds the request every delivery copies: method, URL, content
// type and the extra headers.
func requestTemplate(c Config) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, c.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: url: %v", ErrBadConfig, err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range c.Header {
		if http.CanonicalHeaderKey(k) == "Host" {
			if len(vs) > 0 {
				req.Host = vs[0]
			}
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	return req, nil
}
