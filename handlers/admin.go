package handlers

import "github.com/gofiber/fiber/v2"

// AdminDeps is what sign-in and the signed-in dashboard need beyond the store.
type AdminDeps struct {
	// Sandbox marks pages as running against the built-in Smile simulator and
	// points the sign-in page at the generated sandbox admin.
	Sandbox bool
	// SecureCookies marks the session cookie Secure; set it whenever the public
	// URL is https.
	SecureCookies bool
	// PublicURL is the address people use; sign-in forms posted from another
	// origin are refused.
	PublicURL string
}

// adminRoutes registers sign-in, the /admin pages and the read-only /api/v1.
// Every /admin and /api route sits behind sign-in; auth_routes_test walks the
// route table to prove none is open by accident. State-changing /admin routes
// also need the CSRF token and the admin role.
func (h *Handler) adminRoutes(app *fiber.App) {
	h.authRoutes(app)                                      // GET/POST /login, POST /logout (auth.go)
	app.Get("/", pageSecurity(nil, nil, nil), h.showStart) // the start page (start.go)
	admin := app.Group("/admin", pageSecurity(nil, nil, nil), h.requireSignIn, h.viewersReadOnly)
	h.adminPageRoutes(admin) // pages, htmx fragments, live stream (admin_pages.go)
	h.linkAdminRoutes(admin) // connect links: create, list, revoke (links.go)
	h.recordRoutes(admin)    // records and verifications (records.go)
	h.accessRoutes(admin)    // admins, API tokens, audit log (admins.go, tokens.go, audit.go)
	h.eraseRoutes(admin)     // erasing an end user (erase.go)
	h.reconRoutes(admin)     // attention page, Check with Smile (gaps.go, check.go)
	api := app.Group("/api/v1", h.requireAPIToken)
	h.apiRoutes(api)      // read-only JSON (api.go)
	h.linkAPIRoutes(api)  // connect links over JSON (links.go)
	h.reconAPIRoutes(api) // gaps, lifecycles, stale lists (gaps.go)

	// Search, the exports of every list, the OpenAPI document (search.go, export.go, openapi.go).
	h.searchRoutes(admin, api)
}
