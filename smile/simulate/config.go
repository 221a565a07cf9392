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

// DefaultWindow is how far back a run spreads its users' sign-ups: the last
// three days, so a dashboard fed by it shows recent activity, none in the future.
const DefaultWindow = 72 * time.Hour

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
	// End is when the simulated histories end: no event is dated after it
	// (now when zero). Each user signs up at a random time in the Window before
	// it, and what would happen to the user after End is not sent.
	End time.Time
	// Window is how far back the users' sign-ups are spread (DefaultWindow when
	// zero). Widen it (e.g. 2160h) to see monthly syncs and later disconnections.
	Window time.Duration
	// Realtime sends each event when its time comes instead: users sign up from
	// the start of the run, about two a minute, and every event is dated when it
	// is sent. The run ends when Duration has elapsed (events not yet due are
	// not sent) or, without Duration, when every user's history has been sent.
	Realtime bool
	// Random is the load mode of the ingest benchmark: each request is one new
	// event for a user picked at random among Users (INCOMES_ADDED,
	// EMPLOYMENTS_ADDED, ACCOUNT_CONNECTED or TASK_FINISHED, dated now), so the
	// receiver sees writes spread over many users instead of one user's burst.
	// The run ends after Duration or Events, whichever comes first.
	Random bool
	// Events bounds a Random run by the number of events sent (zero: no bound).
	Events int
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
	case c.Window < 0 || c.Events < 0:
		return c, fmt.Errorf("%w: window and events must not be negative", ErrBadConfig)
	case c.Events > 0 && !c.Random:
		return c, fmt.Errorf("%w: events bounds the random mode only", ErrBadConfig)
	case c.Random && c.Realtime:
		return c, fmt.Errorf("%w: random and realtime are different modes; pick one", ErrBadConfig)
	case c.Random && c.Users == 0:
		return c, fmt.Errorf("%w: random mode picks among users: set users", ErrBadConfig)
	case c.Random && c.Duration == 0 && c.Events == 0:
		return c, fmt.Errorf("%w: random mode needs a duration, a number of events or both", ErrBadConfig)
	case math.IsNaN(c.Duplicates) || c.Duplicates < 0 || c.Duplicates > 1:
		return c, fmt.Errorf("%w: duplicates is %v, want a fraction from 0 to 1", ErrBadConfig, c.Duplicates)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.End.IsZero() {
		c.End = time.Now()
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
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
