package handlers

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/views"
)

// Locals keys set by requireSignIn and requireAPIToken.
const (
	localSignedIn = "signed_in" // auth.SignedIn
	localRole     = "role"      // RoleAdmin or RoleViewer, of the session or the API token
	localAPIToken = "api_token" // auth.APIToken
)

// CSRF token carriers: a form field for plain forms, a header for htmx and fetch.
const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

const readOnlyMessage = "Your account can only view. Ask an admin to do this."

// requireSignIn admits requests with a valid admin session and puts the
// session and its admin in Locals and, for views, in the request context. A
// state-changing request must also carry the session's CSRF token. Without a
// session: pages go to the sign-in page (303), htmx gets 401 with HX-Redirect,
// the event stream and JSON clients get 401.
func (h *Handler) requireSignIn(c *fiber.Ctx) error {
	in, err := h.signedIn(c)
	if err != nil {
		return err
	}
	if in == nil {
		return refuseSignedOut(c)
	}
	if changesState(c.Method()) && !validCSRF(c, in.Session.CSRFToken) {
		return forbidden("This form has expired or did not come from smiledash. Reload the page and try again.",
			errors.New("missing or wrong csrf token"))
	}
	c.Locals(localSignedIn, *in)
	c.Locals(localRole, in.Admin.Role)
	c.SetUserContext(views.WithSignedIn(c.UserContext(),
		views.SignedIn{Email: in.Admin.Email, Role: in.Admin.Role, CSRFToken: in.Session.CSRFToken}))
	c.SetUserContext(views.WithSandbox(c.UserContext(), h.deps.Admin.Sandbox))
	return c.Next()
}

// viewersReadOnly refuses every state-changing request from a viewer, so no
// /admin route can forget to: viewers are read-only by construction.
func (h *Handler) viewersReadOnly(c *fiber.Ctx) error {
	if changesState(c.Method()) && currentRole(c) != RoleAdmin {
		return forbidden(readOnlyMessage, errors.New("viewer attempted "+c.Method()))
	}
	return c.Next()
}

// requireRole admits only accounts (or API tokens) with the role: RoleAdmin
// admits admins, RoleViewer admits both. State-changing /admin routes are
// already admin-only; use this on pages only admins may see (settings).
func (h *Handler) requireRole(role string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		have := currentRole(c)
		if have != RoleAdmin && (role != RoleViewer || have != RoleViewer) {
			return forbidden("This needs an admin account; yours can only view.", errors.New("role "+have+" lacks "+role))
		}
		return c.Next()
	}
}

// signedIn returns the request's valid session, nil when there is none, and an
// error only when the store fails.
func (h *Handler) signedIn(c *fiber.Ctx) (*auth.SignedIn, error) {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return nil, nil
	}
	in, err := h.authStore().SignedInByToken(c.UserContext(), token, h.now())
	if errors.Is(err, models.ErrNotFound) {
		h.clearSessionCookie(c)
		return nil, nil
	}
	if err != nil {
		return nil, unavailable("Sign-in cannot be checked right now. Try again in a moment.", err)
	}
	return &in, nil
}

func refuseSignedOut(c *fiber.Ctx) error {
	const public = "Sign in to continue."
	switch {
	case strings.Contains(c.Get(fiber.HeaderAccept), "text/event-stream") || wantsJSON(c):
		return unauthorized(public, nil)
	case isHTMX(c):
		c.Set("HX-Redirect", loginURL(htmxCurrentPath(c)))
		return unauthorized(public, nil)
	case c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead:
		return c.Redirect(loginURL(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// loginURL is the sign-in page that returns to next afterwards.
func loginURL(next string) string {
	if next = safeNext(next); next == "" || next == "/admin" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// htmxCurrentPath is the page an htmx request came from (not the fragment's URL).
func htmxCurrentPath(c *fiber.Ctx) string {
	u, err := url.Parse(c.Get("HX-Current-URL"))
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

func changesState(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return false
	}
	return true
}

func validCSRF(c *fiber.Ctx, want string) bool {
	got := c.Get(csrfHeader)
	if got == "" {
		got = c.FormValue(csrfField)
	}
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// signedInOf returns the session requireSignIn admitted.
func signedInOf(c *fiber.Ctx) (auth.SignedIn, bool) {
	in, ok := c.Locals(localSignedIn).(auth.SignedIn)
	return in, ok
}

// currentAdmin returns the signed-in admin; ok is false outside requireSignIn.
func currentAdmin(c *fiber.Ctx) (auth.Admin, bool) {
	in, ok := signedInOf(c)
	return in.Admin, ok
}

// currentRole is the role of the signed-in admin or of the API token, "" if none.
func currentRole(c *fiber.Ctx) string {
	role, _ := c.Locals(localRole).(string)
	return role
}

// layout builds the LayoutVM of a signed-in page: the admin, their role, the
// CSRF token, the active nav item, the sandbox flag and the page scripts
// (htmx and the theme toggle; pages may append their own).
func (h *Handler) layout(c *fiber.Ctx, title, active string) views.LayoutVM {
	vm := views.LayoutVM{BaseVM: h.base(title), Active: active, Sandbox: h.deps.Admin.Sandbox}
	if in, ok := signedInOf(c); ok {
		vm.AdminEmail, vm.Role, vm.CSRFToken = in.Admin.Email, in.Admin.Role, in.Session.CSRFToken
	}
	vm.Scripts = []string{h.deps.Assets.URL("js/htmx.min.js"), h.deps.Assets.URL("js/theme.js")}
	vm.Lag = h.lagBanner(c.UserContext())
	return vm
}
