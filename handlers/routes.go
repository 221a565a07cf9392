package handlers

import "github.com/gofiber/fiber/v2"

// webhookPath is where Smile delivers webhooks.
const webhookPath = "/webhooks/smile"

// routes is the route table: every route the app serves, with its middleware,
// grouped by who calls it. Handler files hold only handlers. Every /admin and
// /api route sits behind sign-in; auth_routes_test walks this table to prove
// none is open by accident. State-changing /admin routes also need the CSRF
// token (requireSignIn) and the admin role (viewersReadOnly, requireRole).
func (h *Handler) routes(app *fiber.App) {
	page := pageSecurity(nil, nil, nil) // CSP and framing rules of our own pages
	onlyAdmins := h.requireRole(RoleAdmin)

	// Operators (health.go, metrics.go).
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Get("/metrics", h.metrics)

	// Smile: signed webhooks (webhook.go). No session, no CSRF: the signature
	// is the credential; the body is capped app-wide (fiber.Config.BodyLimit).
	app.Post(webhookPath, h.receiveWebhook)

	// Everyone: embedded CSS and JS, content-hashed (static.go).
	app.Get("/static/*", h.serveStatic)

	// End users holding a connect link: the widget page and its callbacks
	// (connect.go, connect_events.go, connect_token.go). The link's code and
	// the widget session are the credential.
	app.Get("/connect/:code", connectPageSecurity(h.deps.Connect.WidgetScriptURL, h.deps.Connect.WidgetHosts), h.showConnect)
	app.Post("/connect/:code/events", h.receiveCallback)
	app.Post("/connect/:code/token", h.refreshConnectToken)
	// The sandbox sub-app (fake Smile API, sandbox widget calls) exists only
	// in sandbox mode (connect_sandbox.go).
	if h.deps.Connect.Sandbox != nil {
		app.All("/sandbox/*", h.serveSandbox())
	}

	// Admins signing in and out (auth.go), and the start page (start.go).
	app.Get("/", page, h.showStart)
	app.Get("/login", page, h.showLogin)
	app.Post("/login", page, h.login)
	app.Post("/logout", page, h.requireSignIn, h.logout) // CSRF-checked by requireSignIn

	// Signed-in admins and viewers: the dashboard under /admin.
	admin := app.Group("/admin", page, h.requireSignIn, h.viewersReadOnly)
	admin.Get("/", h.showOverview) // overview.go
	admin.Get("/users", h.listUsers)
	admin.Get("/users/:id", h.showUser)
	admin.Get("/timeline/:kind/:id", h.showTimelineItem) // one item, for live updates
	admin.Get("/timeline/:kind/:id/raw", h.downloadTimelineRaw)
	admin.Get("/events", h.listEvents)
	admin.Get("/events/:id", h.showEvent)
	admin.Get("/events/:id/body", h.downloadEventBody)
	admin.Post("/events/:id/reproject", onlyAdmins, h.reproject)
	admin.Get("/deliveries", h.listDeliveries)
	admin.Get("/records", h.listRecords) // records and verifications (records.go)
	admin.Get("/stream", h.stream)       // live updates, server-sent events (stream.go)
	// Connect links (links.go).
	admin.Get("/links", h.listLinks)
	admin.Post("/links", onlyAdmins, h.createLink)
	admin.Post("/links/:id/revoke", onlyAdmins, h.revokeLink)
	// Settings and their actions, admin-only (settings.go, settings_reproject.go).
	admin.Get("/settings", onlyAdmins, h.showSettings)
	admin.Post("/settings/webhook", onlyAdmins, h.registerWebhook)
	admin.Post("/settings/webhooks/:id/delete", onlyAdmins, h.deleteStaleWebhook)
	admin.Post("/settings/reproject", onlyAdmins, h.reprojectAll)
	// Who may do what, admin-only even to read (admins.go, tokens.go, audit.go).
	admin.Get("/admins", onlyAdmins, h.listAdmins)
	admin.Post("/admins", onlyAdmins, h.createAdmin)
	admin.Post("/admins/:id/role", onlyAdmins, h.changeAdminRole)
	admin.Post("/admins/:id/remove", onlyAdmins, h.removeAdmin)
	admin.Get("/tokens", onlyAdmins, h.listTokens)
	admin.Post("/tokens", onlyAdmins, h.createToken)
	admin.Post("/tokens/:id/revoke", onlyAdmins, h.revokeToken)
	admin.Get("/audit", onlyAdmins, h.showAudit)
	// Erasing an end user, admin-only (erase.go).
	admin.Get("/users/:id/erase", onlyAdmins, h.confirmEraseUser)
	admin.Post("/users/:id/erase", onlyAdmins, h.eraseUser)
	// Reconciliation: the attention page, Check with Smile (gaps.go, check.go).
	admin.Get("/attention", h.showAttention)
	admin.Post("/users/:id/check", onlyAdmins, h.checkUser)
	admin.Post("/accounts/:id/check", onlyAdmins, h.checkAccount)
	// Search and the exports of every list (search.go, export.go); an export
	// takes its list's own filters plus format=csv|ndjson.
	admin.Get("/search", h.showSearch)
	admin.Get("/export/users", h.exportUsers)
	admin.Get("/export/users/:id/timeline", h.exportTimeline)
	admin.Get("/export/events", h.exportEvents)
	admin.Get("/export/search", h.exportSearch)

	// Integrators: JSON under /api/v1, bearer API tokens (api_auth.go);
	// requireAPIToken refuses read-only tokens on anything but GET. Lists are
	// keyset-paged: pass back "next" as the cursor parameter.
	api := app.Group("/api/v1", h.requireAPIToken)
	api.Get("/users", h.apiUsers) // api.go
	api.Get("/users/:id", h.apiUser)
	api.Get("/users/:id/timeline", h.apiTimeline)
	api.Get("/events", h.apiEvents)
	api.Get("/events/:id", h.apiEvent)
	api.Get("/deliveries", h.apiDeliveries)
	api.Get("/funnel", h.apiFunnel)     // overview.go
	api.Get("/overview", h.apiOverview) // overview.go
	api.Get("/links", h.apiListLinks)   // links_api.go
	api.Post("/links", h.apiCreateLink)
	api.Post("/links/:id/revoke", h.apiRevokeLink)
	api.Get("/gaps", h.apiGaps) // reconciliation (gaps_api.go)
	api.Get("/accounts/:id/lifecycle", h.apiLifecycle)
	api.Get("/stale", h.apiStale)
	api.Get("/search", h.apiSearch) // search.go, export.go, openapi.go
	api.Get("/export/users", h.exportUsers)
	api.Get("/export/users/:id/timeline", h.exportTimeline)
	api.Get("/export/events", h.exportEvents)
	api.Get("/export/search", h.exportSearch)
	api.Get("/openapi.json", h.serveOpenAPI)

	// Anything else is a 404, through the error handler.
	app.Use(func(c *fiber.Ctx) error { return notFound("There is nothing at this address.") })
}
