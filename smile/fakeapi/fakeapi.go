// Package fakeapi is an in-memory Smile REST API: users, Link tokens, accounts
// and webhook registrations behind Smile's paths, auth, envelope, id formats
// and error codes. Tests use it, and the app runs it as its sandbox when no
// Smile API key is configured: in-process for our own client, and over HTTP at
// /sandbox/smile/v1 for an integrator's backend (sandbox.Simulator.Handler).
// The widget simulator drives account state through AddAccount and
// SetAccountStatus, and is told of new users (OnUserCreated) to send
// USER_CREATED.
//
// A Server is safe for concurrent use. It keeps everything in memory and
// forgets it on restart.
//
// Where Smile's material is specific, the fake follows it (smile-api.md §4.2):
// bad or missing Basic credentials get HTTP 400 INVALID_CREDENTIALS, bad
// input 400 INVALID_PARAMETERS, unknown ids 404 MISSING_RESOURCE, an
// unsupported method 501 UNSUPPORTED_METHOD and a non-JSON body 415
// UNSUPPORTED_TYPE. POST /users and POST /tokens answer 201, POST /webhooks
// 200, as the spec lists them. It does not simulate rate limiting.
package fakeapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"smiledash/smile"
)

// ErrNotFound is wrapped by the driver methods when a user or account is unknown.
var ErrNotFound = errors.New("fakeapi: not found")

// ErrInvalid is wrapped by the driver methods for a bad status, error code or argument.
var ErrInvalid = errors.New("fakeapi: invalid argument")

// Defaults applied by New to zero Options fields.
const (
	DefaultTokenTTL = 30 * time.Minute
	DefaultMode     = smile.ModeSandbox
	DefaultTenantID = "sandbox"
)

// maxBodyBytes caps request bodies; Smile's own requests here are tiny.
const maxBodyBytes = 64 << 10

// Options configures a Server.
type Options struct {
	// APIKey and APISecret are the Basic auth credentials the server accepts.
	// When APIKey is empty any credentials with a non-empty key are accepted,
	// which suits a throwaway in-process sandbox.
	APIKey    string
	APISecret string
	// Now is the clock; it defaults to time.Now. Times are served in UTC,
	// truncated to seconds, as Smile does.
	Now func() time.Time
	// TokenTTL is how long a Link token lives; Smile does not document it.
	TokenTTL time.Duration
	// Mode goes into every token: SANDBOX or PRODUCTION.
	Mode string
	// TenantID prefixes user ids: <tenant>-<32 hex>.
	TenantID string
	// AdoptUnknownUsers makes POST /tokens recreate a user it does not know
	// whose id carries this tenant's prefix. The built-in sandbox keeps its
	// state in memory while our database remembers its users, so without this
	// every connect link would stop working when the server restarts.
	AdoptUnknownUsers bool
}

// Server is the fake API. Build it with New and serve it as an http.Handler,
// mounted at the root or under /v1 (a leading /v1 is stripped).
type Server struct {
	opts Options

	mu       sync.Mutex
	seq      uint64 // orders every created record, and backs the cursors
	users    map[string]*userRecord
	tokens   map[string]*tokenRecord // by access token
	accounts map[string]*accountRecord
	webhooks map[string]*webhookRecord
	// userCreated is told of every user POST /users creates (OnUserCreated).
	userCreated func(userID string)

	routes map[routeKey]map[string]handlerFunc
}

// routeKey names a route: a resource, alone or followed by an id.
type routeKey struct {
	resource string
	withID   bool
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, segs []string)

// New returns an empty Server with opts' defaults filled in.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Mode == "" {
		opts.Mode = DefaultMode
	}
	if opts.TenantID == "" {
		opts.TenantID = DefaultTenantID
	}
	s := &Server{
		opts:     opts,
		users:    map[string]*userRecord{},
		tokens:   map[string]*tokenRecord{},
		accounts: map[string]*accountRecord{},
		webhooks: map[string]*webhookRecord{},
	}
	s.routes = map[routeKey]map[string]handlerFunc{
		{"users", false}:    {http.MethodGet: s.listUsers, http.MethodPost: s.createUser},
		{"users", true}:     {http.MethodGet: s.getUser},
		{"tokens", false}:   {http.MethodPost: s.createToken},
		{"accounts", false}: {http.MethodGet: s.listAccounts},
		{"accounts", true}:  {http.MethodGet: s.getAccount, http.MethodDelete: s.deleteAccount},
		{"webhooks", false}: {http.MethodGet: s.listWebhooks, http.MethodPost: s.createWebhook},
		{"webhooks", true}:  {http.MethodGet: s.getWebhook, http.MethodDelete: s.deleteWebhook},
	}
	return s
}

// OnUserCreated registers f to be told of each user POST /users creates, after
// the answer is written: the sandbox sends USER_CREATED for it, as Smile does.
// A later call replaces an earlier one; nil stops the calls.
func (s *Server) OnUserCreated(f func(userID string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userCreated = f
}

// now returns the clock in Smile's resolution. Callers hold s.mu or not; the
// clock itself needs no lock.
func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// nextSeq returns a fresh sequence number; s.mu must be held.
func (s *Server) nextSeq() uint64 {
	s.seq++
	return s.seq
}

// ServeHTTP checks the credentials, then routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			writeError(w, http.StatusInternalServerError, smile.CodeServerError, "Internal error")
		}
	}()
	if !s.authorized(r) {
		writeError(w, http.StatusBadRequest, smile.CodeInvalidCredentials, "Invalid API key or secret")
		return
	}
	segs, ok := pathSegments(r)
	if !ok {
		writeError(w, http.StatusNotFound, smile.CodeMissingResource, "Resource not found")
		return
	}
	h, allowed := s.route(r.Method, segs)
	if h == nil && allowed == "" {
		writeError(w, http.StatusNotFound, smile.CodeMissingResource, "Resource not found")
		return
	}
	if h == nil {
		// Smile maps an unsupported method to 501 UNSUPPORTED_METHOD (smile-api.md §4.2).
		w.Header().Set("Allow", allowed)
		writeError(w, http.StatusNotImplemented, smile.CodeUnsupportedMethod, "Method not supported")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	h(w, r, segs)
}

// route picks the handler for a method and path; for a known path with the
// wrong method it returns nil and the allowed methods.
func (s *Server) route(method string, segs []string) (handlerFunc, string) {
	if len(segs) == 0 || len(segs) > 2 {
		return nil, ""
	}
	methods := s.routes[routeKey{segs[0], len(segs) == 2}]
	if h := methods[method]; h != nil {
		return h, ""
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		if methods[m] != nil {
			allowed = append(allowed, m)
		}
	}
	return nil, strings.Join(allowed, ", ")
}

// pathSegments splits the escaped path after an optional /v1 prefix and
// unescapes each segment, so an id may hold an encoded slash.
func pathSegments(r *http.Request) ([]string, bool) {
	p := r.URL.EscapedPath()
	if p == "/v1" || strings.HasPrefix(p, "/v1/") {
		p = p[len("/v1"):]
	}
	p = strings.Trim(p, "/")
	if p == "" {
		return nil, true
	}
	var segs []string
	for _, raw := range strings.Split(p, "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil || seg == "" {
			return nil, false
		}
		segs = append(segs, seg)
	}
	return segs, true
}

// authorized checks HTTP Basic credentials in constant time.
func (s *Server) authorized(r *http.Request) bool {
	key, secret, ok := r.BasicAuth()
	if !ok || key == "" {
		return false
	}
	if s.opts.APIKey == "" {
		return true
	}
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.APISecret))
	return keyOK&secretOK == 1
}
