package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/views"
)

// Roles an admin account or API token can have.
const (
	RoleAdmin  = auth.RoleAdmin  // everything
	RoleViewer = auth.RoleViewer // read-only
)

// sessionCookie carries the session token; the store keeps only its hash.
const sessionCookie = "smiledash_session"

// deviceCookie marks a browser that signed in before (models.IssueDeviceToken):
// it exempts the browser from the per-email and per-address sign-in limits.
const deviceCookie = "smiledash_device"

// AuthStore is what sign-in, sessions and API tokens need of the store.
type AuthStore interface {
	Authenticate(ctx context.Context, email, password string, now time.Time) (auth.Admin, error)
	TakeSignIn(ctx context.Context, at auth.SignInAttempt, now time.Time) (time.Duration, error)
	SignInSucceeded(ctx context.Context, at auth.SignInAttempt, now time.Time) error
	DeviceFor(ctx context.Context, token, email string, now time.Time) (string, error)
	IssueDeviceToken(ctx context.Context, a auth.Admin, now time.Time) (string, error)
	CreateSession(ctx context.Context, adminID int64, client auth.SessionClient, now time.Time) (string, auth.AdminSession, error)
	SignedInByToken(ctx context.Context, token string, now time.Time) (auth.SignedIn, error)
	DeleteSession(ctx context.Context, token string) error
	APITokenByToken(ctx context.Context, plain string, now time.Time) (auth.APIToken, error)
	AdminByEmail(ctx context.Context, email string) (auth.Admin, error)
}

var _ AuthStore = (*auth.Store)(nil)

func (h *Handler) authStore() AuthStore { return h.deps.Stores.Auth }

// showLogin is GET /login. Someone already signed in goes straight on. A
// next that is not a local /admin path (malformed, another site, over 2 KiB)
// is dropped; a forged or expired session cookie is simply not signed in.
// Repeating it changes nothing.
func (h *Handler) showLogin(c *fiber.Ctx) error {
	next := safeNext(c.Query("next"))
	if in, err := h.signedIn(c); err == nil && in != nil {
		return c.Redirect(orAdmin(next), fiber.StatusSeeOther)
	}
	return render(c, fiber.StatusOK, views.LoginPage(h.loginVM("", next, "")))
}

// login is POST /login: 303 to next (a local /admin path) on success, the form
// again with 422 on bad credentials, 429 with Retry-After when throttled.
// What happens to input:
//   - a form posted from another site (Origin or Sec-Fetch-Site): 403;
//   - an empty email or password: 422, nothing counted;
//   - repeated attempts: each is counted before its password is checked, in
//     one atomic statement per limit (models.TakeSignIn), so parallel guesses
//     cannot slip past: past 5 per 15 minutes for one email from one address,
//     or 20 from one address, the answer is 429 with Retry-After and the
//     password is not even compared. A browser holding a valid device cookie
//     for that email (it signed in as that admin before) is counted only by
//     its own limit (10 per 15 minutes), so nobody else's guessing locks the
//     real admin out. A right password gives its attempt back;
//   - a forged, tampered, expired or other admin's device cookie: no device,
//     the browser is throttled like any other;
//   - an oversized body: refused by the app-wide body limit (413).
//
// A successful sign-in sets a new session cookie and a new device cookie
// (HttpOnly, SameSite=Lax, Secure when the public URL is https, one year).
func (h *Handler) login(c *fiber.Ctx) error {
	if !sameOrigin(c, h.deps.Admin.PublicURL) {
		return forbidden("Sign in from the smiledash sign-in page.", errors.New("cross-origin sign-in refused"))
	}
	store, ctx := h.authStore(), c.UserContext()
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	if email == "" || password == "" {
		return render(c, fiber.StatusUnprocessableEntity, views.LoginPage(h.loginVM(email, next, "Enter your email and password.")))
	}
	ip, now := h.clientIP(c), h.now()
	device, err := store.DeviceFor(ctx, c.Cookies(deviceCookie), email, now)
	if err != nil {
		return err
	}
	attempt := auth.SignInAttempt{Email: email, IP: ip, Device: device}
	wait, err := store.TakeSignIn(ctx, attempt, now)
	if err != nil {
		return err
	}
	if wait > 0 {
		h.log.Warn("Sign-in throttled", slog.String("email", email), slog.String("ip", ip),
			slog.Bool("device", device != ""), slog.Duration("retry_after", wait))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(wait/time.Second)))
		return render(c, fiber.StatusTooManyRequests, views.LoginPage(h.loginVM(email, next, throttledMessage(wait))))
	}
	admin, err := store.Authenticate(ctx, email, password, now)
	if errors.Is(err, auth.ErrBadCredentials) {
		h.log.Warn("Sign-in failed", slog.String("email", email), slog.String("ip", ip), slog.Bool("device", device != ""))
		h.auditSignInFailed(c, email)
		return render(c, fiber.StatusUnprocessableEntity, views.LoginPage(h.loginVM(email, next, "The email or password is incorrect.")))
	}
	if err != nil {
		return err
	}
	if err := store.SignInSucceeded(ctx, attempt, now); err != nil {
		return err
	}
	return h.startSession(c, admin, ip, next)
}

// startSession signs a browser in as admin: a new session (a session id
// planted before sign-in is useless) and a new device cookie.
func (h *Handler) startSession(c *fiber.Ctx, admin auth.Admin, ip, next string) error {
	store, ctx, now := h.authStore(), c.UserContext(), h.now()
	if old := c.Cookies(sessionCookie); old != "" {
		if err := store.DeleteSession(ctx, old); err != nil {
			return err
		}
	}
	token, _, err := store.CreateSession(ctx, admin.ID, auth.SessionClient{UserAgent: c.Get(fiber.HeaderUserAgent), IP: ip}, now)
	if err != nil {
		return err
	}
	h.setSessionCookie(c, token)
	device, err := store.IssueDeviceToken(ctx, admin, now)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: deviceCookie, Value: device, Path: "/login", MaxAge: int(auth.DeviceCookieMaxAge / time.Second),
		HTTPOnly: true, Secure: h.deps.Admin.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
	h.log.Info("Signed in", slog.Int64("admin_id", admin.ID), slog.String("role", admin.Role), slog.String("ip", ip))
	h.audit(c, models.AuditEntry{Action: models.AuditSignIn, Target: adminTarget(admin)}.ByAdmin(admin))
	return redirect(c, orAdmin(next))
}

// logout is POST /logout: it ends the session and goes back to the sign-in page.
// Without the session's CSRF token (forged, missing, another session's) it is
// refused with 403 by requireSignIn and the session stays; a forged, expired or
// already-ended session is just sent to the sign-in page, so repeating a
// sign-out is harmless. The device cookie is kept: the browser still signed in
// before.
func (h *Handler) logout(c *fiber.Ctx) error {
	if in, ok := signedInOf(c); ok {
		if err := h.authStore().DeleteSession(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
			return err
		}
		h.log.Info("Signed out", slog.Int64("admin_id", in.Admin.ID))
	}
	h.clearSessionCookie(c)
	return redirect(c, "/login")
}

func (h *Handler) loginVM(email, next, problem string) views.LoginPageVM {
	vm := views.LoginPageVM{BaseVM: h.base("Sign in"), Email: email, Next: next, Error: problem, Sandbox: h.deps.Admin.Sandbox}
	vm.Scripts = []string{h.deps.Assets.URL("js/theme.js")}
	return vm
}

func throttledMessage(wait time.Duration) string {
	minutes := int((wait + time.Minute - 1) / time.Minute)
	if minutes <= 1 {
		return "Too many failed sign-in attempts. Wait a minute and try again."
	}
	return "Too many failed sign-in attempts. Wait " + strconv.Itoa(minutes) + " minutes and try again."
}

func (h *Handler) setSessionCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(auth.SessionMaxAge / time.Second),
		HTTPOnly: true, Secure: h.deps.Admin.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (h *Handler) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: "", Path: "/", Expires: time.Unix(1, 0),
		HTTPOnly: true, Secure: h.deps.Admin.SecureCookies, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// clientIP is the address a request came from, believing X-Forwarded-For only
// from trusted proxies.
func (h *Handler) clientIP(c *fiber.Ctx) string {
	return ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), h.deps.Webhooks.TrustedProxies)
}

// redirect sends a 303, or HX-Redirect when htmx asked (it would otherwise
// swap the target page into the element).
func redirect(c *fiber.Ctx, to string) error {
	if isHTMX(c) {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// safeNext returns next if it is a local dashboard path (under /admin), else "".
// Only such paths are followed after sign-in, so the sign-in page cannot be
// used to send people to another site.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/admin") {
		return ""
	}
	if rest := next[len("/admin"):]; rest != "" && rest[0] != '/' && rest[0] != '?' {
		return ""
	}
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return ""
	}
	if path, _, _ := strings.Cut(next, "?"); strings.Contains(path, "//") || strings.Contains(path, "/..") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

func orAdmin(next string) string {
	if next == "" {
		return "/admin"
	}
	return next
}

// sameOrigin refuses sign-in forms posted from other sites (login CSRF: signing
// a victim in to the attacker's account). Browsers send Sec-Fetch-Site and
// Origin; a request with neither (a script, curl) is not a browser to protect.
func sameOrigin(c *fiber.Ctx, publicURL string) bool {
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, c.Get(fiber.HeaderHost)) {
		return true
	}
	p, err := url.Parse(publicURL)
	return err == nil && p.Host != "" && strings.EqualFold(u.Host, p.Host)
}
