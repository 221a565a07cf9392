package handlers

import "github.com/gofiber/fiber/v2"

// AdminDeps is what the signed-in dashboard needs.
type AdminDeps struct{}

// adminRoutes registers sign-in, the /admin pages and the read-only /api/v1.
// Every /admin and /api route sits behind sign-in; auth_test walks the route
// table to prove none is open by accident.
func (h *Handler) adminRoutes(app *fiber.App) {
	h.authRoutes(app) // GET/POST /login, POST /logout (auth.go)
	admin := app.Group("/admin", h.requireSignIn)
	h.adminPageRoutes(admin) // pages, htmx fragments, live stream (admin_pages.go)
	h.linkAdminRoutes(admin) // connect links: create, list, revoke (links.go)
	api := app.Group("/api/v1", h.requireAPIToken)
	h.apiRoutes(api)     // read-only JSON (api.go)
	h.linkAPIRoutes(api) // connect links over JSON (links.go)
}
