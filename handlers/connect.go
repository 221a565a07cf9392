package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// ConnectDeps is what the connect flow needs (links, the Smile client, widget sessions).
type ConnectDeps struct {
	// Smile is the REST client: real, or backed by the built-in sandbox.
	Smile *smile.Client
	// WidgetScriptURL is the Wink Widget script: Smile's, or our sandbox widget
	// (a /static/ path, served content-hashed).
	WidgetScriptURL string
	// WidgetHosts are more https origins the connect page's CSP admits for
	// the widget (SMILE_WIDGET_HOSTS), beyond the ones Smile documents.
	WidgetHosts []string
	// TemplateID is the Wink template (wtpl-...); empty uses Smile's default.
	TemplateID string
	// PublicURL is the base of the connect links shown to admins.
	PublicURL string
	// SessionTTL bounds a widget session; zero means DefaultWidgetSessionTTL.
	SessionTTL time.Duration
	// Sandbox is the sandbox sub-app (fake Smile API and the sandbox widget's
	// calls), mounted at /sandbox; nil outside sandbox mode, and then no
	// /sandbox route exists.
	Sandbox http.Handler
}

// DefaultWidgetSessionTTL is how long a connect page may post callbacks and
// ask for tokens after it was opened.
const DefaultWidgetSessionTTL = 4 * time.Hour

// ConnectStore is what the connect flow needs of the store.
type ConnectStore interface {
	LinkByCode(ctx context.Context, code string) (models.Link, error)
	AttachSmileUser(ctx context.Context, linkID int64, smileUserID string) (models.Link, error)
	MarkLinkOpened(ctx context.Context, l models.Link, now time.Time, detail map[string]any) error
	RecordLinkAction(ctx context.Context, l models.Link, kind, actor string, now time.Time, detail map[string]any) error
	CreateWidgetSession(ctx context.Context, l models.Link, now time.Time, ttl time.Duration) (string, models.WidgetSession, error)
	CheckWidgetSession(ctx context.Context, token string, l models.Link, now time.Time) (models.WidgetSession, error)
	TouchWidgetSession(ctx context.Context, id int64, now time.Time) error
	CreateCallback(ctx context.Context, cb *models.Callback) error
	TakeCallback(ctx context.Context, l models.Link, sessionID int64, size int, now time.Time) (models.LinkVerdict, error)
	TakeToken(ctx context.Context, l models.Link, sessionID int64, now time.Time) (models.LinkVerdict, error)
}

// throttleTokens counts a Smile token the link is about to ask for
// (models.MaxTokensPerLink per models.TokenWindow: enough for any person, while
// someone holding a link cannot spend our share of Smile's 20 requests/s by
// reloading it) and refuses it with 429 past the limit.
func (h *Handler) throttleTokens(c *fiber.Ctx, l models.Link, sessionID int64) error {
	v, err := h.connectStore().TakeToken(c.UserContext(), l, sessionID, h.now())
	if err != nil {
		return err
	}
	return throttled(c, l, v, "This link was opened very often in the last few minutes. Please wait a few minutes, then try again.")
}

// throttled turns a refusing verdict into 429 with Retry-After (whole seconds
// to the end of the refusing window, at least one), or nil when allowed.
func throttled(c *fiber.Ctx, l models.Link, v models.LinkVerdict, public string) error {
	if v.Allowed {
		return nil
	}
	c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64((v.RetryAfter+time.Second-1)/time.Second), 10))
	return &Error{Status: fiber.StatusTooManyRequests, Public: public,
		Err: fmt.Errorf("link %d over its limit of %s", l.ID, v.Limit)}
}

var _ ConnectStore = (*models.Store)(nil)

// widgetOrigin is the origin the CSP must admit for the widget script, its
// frames and its requests: none when the script is our own (a path).
func widgetOrigin(script string) []string {
	u, err := url.Parse(script)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}

// Public messages of the connect flow, in plain words for the person holding the link.
const (
	msgNoSuchLink    = "This connect link does not exist. Check that you copied the whole address, or ask for a new link."
	msgLinkExpired   = "This connect link has expired. Please ask whoever sent it for a new one."
	msgLinkRevoked   = "This connect link has been withdrawn. Please ask whoever sent it for a new one."
	msgSmileDown     = "We could not reach our connection partner just now. Please try again in a minute."
	msgSmileUserGone = "This link can no longer connect accounts (in the sandbox, a restart forgets Smile's users). Please ask for a new link."
	msgSessionRefuse = "This page's session is not valid any more. Please open your link again."
)

// linkForPage finds the link of a connect page: 404 when the code is unknown
// (or cannot be one), 410 when it was revoked or has expired.
func (h *Handler) linkForPage(c *fiber.Ctx) (models.Link, error) {
	code := c.Params("code")
	if code == "" || len(code) > 64 {
		return models.Link{}, notFound(msgNoSuchLink)
	}
	l, err := h.connectStore().LinkByCode(c.UserContext(), code)
	if errors.Is(err, models.ErrNotFound) {
		return models.Link{}, notFound(msgNoSuchLink)
	}
	if err != nil {
		return models.Link{}, err
	}
	switch l.State(h.now()) {
	case models.LinkRevoked:
		return l, &Error{Status: fiber.StatusGone, Public: msgLinkRevoked}
	case models.LinkExpired:
		return l, &Error{Status: fiber.StatusGone, Public: msgLinkExpired}
	}
	return l, nil
}

func (h *Handler) connectStore() ConnectStore { return h.deps.Stores.Connect }

// showConnect is GET /connect/:code, the end user's page. Unknown codes get a
// 404 page, revoked or expired ones a 410 page, and nothing is created for them.
// The first open creates the Smile user (externalMetadata carries our external
// reference) and binds it to the link; every open, first or not, gets a fresh
// single-use Link token and a new widget session, and is recorded as
// link_opened. A repeated open (a reload, a second tab) is simply another
// open: a new token and session, the earlier ones left to expire; but every
// open first counts, atomically and across replicas, against the link's
// models.MaxTokensPerLink tokens per models.TokenWindow, and past it gets a 429
// page with Retry-After instead (Smile is not called; the burst is recorded
// once on the link's timeline as link_throttled). If Smile
// cannot be reached the person sees a 503 page and may reload; a Smile user
// created just before a failure is bound and reused. A GET has no body, so
// there is nothing oversized or malformed to refuse; a code that cannot be one
// (empty, over 64 characters) is a 404 like any unknown code.
func (h *Handler) showConnect(c *fiber.Ctx) error {
	ctx, now := c.UserContext(), h.now()
	l, err := h.linkForPage(c)
	if err != nil {
		return err
	}
	if err := h.throttleTokens(c, l, 0); err != nil {
		return err
	}
	store, cd := h.connectStore(), h.deps.Connect
	first := l.SmileUserID == ""
	var tok smile.Token
	if first {
		if l, tok, err = h.createSmileUser(ctx, l); err != nil {
			return err
		}
	}
	if tok.AccessToken == "" {
		if tok, err = cd.Smile.RefreshToken(ctx, l.SmileUserID); err != nil {
			return smileFailure(err)
		}
	}
	session, _, err := store.CreateWidgetSession(ctx, l, now, h.sessionTTL())
	if err != nil {
		return err
	}
	detail := map[string]any{"first_open": first, "token_expires_at": tok.ExpiresAt, "mode": tok.Mode}
	if err := store.MarkLinkOpened(ctx, l, now, detail); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, fiber.StatusOK, views.ConnectPage(h.connectPageVM(l, tok, session)))
}

// createSmileUser makes the link's Smile user on first open. If another first
// open won the race, its user is kept and this token (for the loser) dropped.
func (h *Handler) createSmileUser(ctx context.Context, l models.Link) (models.Link, smile.Token, error) {
	meta := map[string]string{"external_ref": l.ExternalRef, "smiledash_link": fmt.Sprint(l.ID)}
	user, tok, err := h.deps.Connect.Smile.CreateUser(ctx, meta)
	if err != nil {
		return l, smile.Token{}, smileFailure(err)
	}
	bound, err := h.connectStore().AttachSmileUser(ctx, l.ID, user.ID)
	if err != nil {
		return l, smile.Token{}, err
	}
	if bound.SmileUserID != user.ID {
		h.log.Warn("Concurrent first opens of a link; extra Smile user unused",
			slog.Int64("link_id", l.ID), slog.String("unused_smile_user", user.ID))
		return bound, smile.Token{}, nil
	}
	return bound, tok, nil
}

// smileFailure is what the person sees when Smile refuses or cannot be
// reached: a 410 when Smile no longer knows the link's user (deleted, or a
// sandbox restarted, which forgets its users), otherwise a 503 to retry later.
func smileFailure(err error) error {
	var apiErr *smile.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus == fiber.StatusNotFound {
		return &Error{Status: fiber.StatusGone, Public: msgSmileUserGone, Err: err}
	}
	return unavailable(msgSmileDown, err)
}

func (h *Handler) sessionTTL() time.Duration {
	if h.deps.Connect.SessionTTL > 0 {
		return h.deps.Connect.SessionTTL
	}
	return DefaultWidgetSessionTTL
}

func (h *Handler) connectPageVM(l models.Link, tok smile.Token, session string) views.ConnectPageVM {
	cd := h.deps.Connect
	vm := views.ConnectPageVM{
		BaseVM:           h.base("Connect your accounts"),
		Label:            l.Label,
		WidgetScriptURL:  h.assetOrURL(cd.WidgetScriptURL),
		ConnectScriptURL: h.assetOrURL("/static/js/connect.js"),
		PageCSSURL:       h.assetOrURL("/static/css/connect.css"),
		Boot: views.ConnectBoot{
			UserToken: tok.AccessToken, TemplateID: cd.TemplateID, Session: session,
			EventsURL: "/connect/" + l.Code + "/events", TokenURL: "/connect/" + l.Code + "/token",
		},
	}
	switch {
	case cd.Sandbox != nil:
		vm.Sandbox = "simulator"
	case tok.Mode == smile.ModeSandbox:
		vm.Sandbox = "smile"
	}
	return vm
}

// assetOrURL turns one of our /static/ paths into its content-hashed URL and
// leaves anything else (Smile's script) as it is.
func (h *Handler) assetOrURL(u string) string {
	if name, ok := strings.CutPrefix(u, "/static/"); ok {
		return h.deps.Assets.URL(name)
	}
	return u
}
