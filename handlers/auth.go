package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/views"
)

// Roles an admin account can have.
const (
	RoleAdmin  = "admin"  // everything
	RoleViewer = "viewer" // read-only
)

// authRoutes registers sign-in and sign-out. (Placeholder until sign-in lands.)
func (h *Handler) authRoutes(app *fiber.App) {}

// requireSignIn admits requests with a valid admin session and puts the admin
// and the CSRF token in the request context. (Placeholder until sign-in lands.)
func (h *Handler) requireSignIn(c *fiber.Ctx) error { return c.Next() }

// requireRole admits only admins with the given role; put it on every route
// that changes state. (Placeholder until sign-in lands.)
func (h *Handler) requireRole(role string) fiber.Handler {
	return func(c *fiber.Ctx) error { return c.Next() }
}

// requireAPIToken admits /api requests with a valid bearer token. (Placeholder.)
func (h *Handler) requireAPIToken(c *fiber.Ctx) error { return c.Next() }

// layout builds the LayoutVM of a signed-in page: the admin, their role, the CSRF
// token, the active nav item and the page scripts. (Placeholder until sign-in lands.)
func (h *Handler) layout(c *fiber.Ctx, title, active string) views.LayoutVM {
	return views.LayoutVM{BaseVM: h.base(title), Active: active}
}
