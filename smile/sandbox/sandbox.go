// Package sandbox is the server side of the sandbox Wink Widget: what
// static/js/sandbox-widget.js talks to when smiledash runs without Smile
// credentials. Each thing a person does in the sandbox widget (log in to a
// provider, upload a document, remove an account, let the token expire) changes
// the in-process fake Smile API and schedules the signed webhooks Smile would
// send for it, which are POSTed to our own receiver over loopback.
//
// Handler is the whole sandbox as one net/http sub-app (the fake Smile API
// over HTTP and the widget's calls) that cmd hands to the server to mount at
// /sandbox, so the production HTTP layer never imports this package. It knows
// nothing about our database and speaks to the rest of smiledash only through
// webhooks, as Smile does. Each webhook is dated when it is sent: the delays
// between a widget action and its webhooks are waited out, never written into
// createdAt.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/simulate"
)

// Errors the widget endpoints turn into responses.
var (
	// ErrTokenExpired means the Link token is unknown or expired: the widget
	// fires onTokenExpired.
	ErrTokenExpired = errors.New("sandbox: link token expired or unknown")
	// ErrInvalid is wrapped for input the real widget could never send.
	ErrInvalid = errors.New("sandbox: invalid input")
	// ErrNotYours is returned for an account or archive of another user.
	ErrNotYours = errors.New("sandbox: not this user's")
)

// Limits on what the widget may send.
const (
	maxLoginLen    = 200
	maxPasswordLen = 200
)

// Options configures a Simulator.
type Options struct {
	// API is the fake Smile API the client of this process talks to.
	API *fakeapi.Server
	// Secret signs the webhooks: the current webhook secret.
	Secret []byte
	// HTTPClient sends the webhooks; it defaults to one with a 10s timeout.
	HTTPClient *http.Client
	// Speedup shrinks the gaps between the events of a flow, which follow
	// Smile's real pace (seconds to a minute): each gap is divided by Speedup.
	// Zero or less sends every webhook at once (tests).
	Speedup float64
	// SecondApart makes each of a user's webhooks wait, if need be, for a
	// second its previous one was not sent in, so no two of a user's events
	// share a createdAt. Smile's own pace rarely puts them in one second (a
	// login takes seconds, a scrape longer); the sped-up sandbox would, all
	// the time. Off, webhooks go as soon as their gap is waited out (tests).
	SecondApart bool
	// RetryDelay is the wait before re-sending a webhook our receiver did not
	// acknowledge (Smile retries twice, a few dozen seconds apart); default 2s.
	RetryDelay time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Seed seeds the event generator; zero picks a random one, so ids never
	// repeat across restarts.
	Seed uint64
	Log  *slog.Logger
}

// Simulator plays Smile for the sandbox widget. It is safe for concurrent use.
type Simulator struct {
	opts     Options
	receiver atomic.Pointer[string]
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu       sync.Mutex
	gen      *simulate.Generator
	archives map[string]string    // archive id → user id
	lastSent map[string]time.Time // second of each user's last webhook (SecondApart)
	queues   map[string][]step    // per user, in order
	pending  int
	changed  chan struct{} // closed and replaced whenever pending drops
}

// New returns a Simulator. Webhooks are sent once SetReceiverURL has been called.
func New(opts Options) (*Simulator, error) {
	if opts.API == nil {
		return nil, errors.New("sandbox: no fake API")
	}
	if len(opts.Secret) == 0 {
		return nil, errors.New("sandbox: no webhook secret to sign with")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		opts.Seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Simulator{
		opts: opts, ctx: ctx, cancel: cancel,
		gen:      simulate.NewGenerator(opts.Seed, fakeapi.DefaultTenantID, opts.Now()),
		archives: map[string]string{},
		lastSent: map[string]time.Time{},
		queues:   map[string][]step{},
		changed:  make(chan struct{}),
	}
	opts.API.OnUserCreated(s.userCreated)
	return s, nil
}

// userCreated sends USER_CREATED for a user made by POST /users, as Smile
// does when a user and its Link token are created.
func (s *Simulator) userCreated(userID string) {
	evs := s.flow(func(g *simulate.Generator, at time.Time) []simulate.Event {
		return []simulate.Event{g.UserCreated(userID, at)}
	})
	s.schedule(userID, evs, nil)
}

// SetReceiverURL sets where webhooks go: our own POST /webhooks/smile, reached
// over loopback once the server listens.
func (s *Simulator) SetReceiverURL(u string) { s.receiver.Store(&u) }

// ReceiverURL returns where webhooks go, or "" before SetReceiverURL.
func (s *Simulator) ReceiverURL() string {
	if p := s.receiver.Load(); p != nil {
		return *p
	}
	return ""
}

// Close stops sending: webhooks not yet sent are dropped, as they would be if
// Smile went away. It waits for in-flight sends to end.
func (s *Simulator) Close() {
	s.cancel()
	s.wg.Wait()
}

// Session is what the widget learns when it opens with a token.
type Session struct {
	UserID     string      `json:"userId"`
	Mode       string      `json:"mode"`
	Providers  []Provider  `json:"providers"`
	TestLogins []TestLogin `json:"testLogins"`
	FileTypes  []string    `json:"fileTypes"`
}

// Open checks a Link token as the widget does when it starts.
func (s *Simulator) Open(token string) (Session, error) {
	userID, err := s.user(token)
	if err != nil {
		return Session{}, err
	}
	return Session{UserID: userID, Mode: smile.ModeSandbox, Providers: Providers(), TestLogins: TestLogins(), FileTypes: FileTypes()}, nil
}

// ExpireToken makes the token expire now, as if its lifetime had run out.
func (s *Simulator) ExpireToken(token string) error {
	if _, err := s.user(token); err != nil {
		return err
	}
	s.opts.API.ExpireToken(token)
	return nil
}

func (s *Simulator) user(token string) (string, error) {
	if token == "" || len(token) > 4096 {
		return "", ErrTokenExpired
	}
	userID, ok := s.opts.API.TokenValid(token)
	if !ok {
		return "", ErrTokenExpired
	}
	return userID, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Pending reports how many webhooks are scheduled and not yet sent.
func (s *Simulator) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Idle waits until every scheduled webhook has been sent (or dropped).
func (s *Simulator) Idle(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.pending == 0 {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// trimLogin normalises what a person typed as a login name.
func trimLogin(s string) string { return strings.TrimSpace(s) }
