package handlers

import "github.com/gofiber/fiber/v2"

// webhookPath is where Smile delivers webhooks.
const webhookPath = "/webhooks/smile"

// routes is the route table. Every route is listed here, grouped by who calls it.
func (h *Handler) routes(app *fiber.App) {
	// Operators.
	app.Get("/healthz", h.healthz)
	app.Get("/readyz", h.readyz)
	app.Get("/metrics", h.metrics)

	// Smile: signed webhooks. No session, no CSRF: the signature is the credential.
	app.Post(webhookPath, h.receiveWebhook)

	// Embedded CSS and JS.
	app.Get("/static/*", h.serveStatic)

	// End users: connect links, the widget page and its callbacks (connect.go).
	h.connectRoutes(app)

	// Admins: sign-in, /admin pages, live stream and /api/v1 (admin.go).
	h.adminRoutes(app)

	// Anything else is a 404, through the error handler.
	app.Use(func(c *fiber.Ctx) error { return notFound("There is nothing at this address.") })
}
