// Package handlers is smiledash's HTTP layer: it parses requests, authorises
// them, calls models and smile, and renders views or JSON. Nothing here writes SQL.
package handlers

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"smiledash/static"
)

// NewApp builds the Fiber app with its error handler, middleware and routes.
// Tests use exactly this. It panics when deps lacks the ingester or a store
// (Deps says why): that is a wiring mistake, found when the app is built
// rather than as a nil dereference in the middle of a request.
func NewApp(deps Deps) *fiber.App {
	if missing := deps.missing(); len(missing) > 0 {
		panic("handlers: NewApp without " + strings.Join(missing, ", "))
	}
	if deps.Assets == nil {
		deps.Assets = mustAssets()
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	h := &Handler{log: deps.Log, deps: deps, now: deps.Now, requestIDs: newRequestIDs(), lag: newLagCache(deps.Pages.ProjectorLag),
		edge: &edge{hsts: isHTTPS(deps.Admin.PublicURL) || isHTTPS(deps.Connect.PublicURL)}}
	h.renderErrorPage = h.errorPage
	app := fiber.New(fiber.Config{
		AppName:               "smiledash",
		ErrorHandler:          h.errorHandler,
		BodyLimit:             bodyLimit(deps.Webhooks.MaxBytes),
		DisableStartupMessage: true,
		ReadTimeout:           headerTimeout, // the body gets bodyTimeout more (edge.go)
		WriteTimeout:          writeTimeout,
		IdleTimeout:           idleTimeout,
		ReadBufferSize:        16 << 10,
	})
	h.edge.install(app)
	app.Use(recover.New(recover.Config{EnableStackTrace: true}))
	app.Use(h.requestLog)
	app.Use(refuseHostileInput)
	h.routes(app)
	return app
}

// mustAssets hashes the embedded assets. The files are compiled into the
// binary, so failing to read them is a broken build, not a condition to serve.
func mustAssets() *static.Assets {
	a, err := static.New()
	if err != nil {
		panic("handlers: " + err.Error())
	}
	return a
}

// bodyLimit is the app-wide cap fasthttp enforces before any handler runs. It is
// the webhook limit (the largest body we take); smaller routes check their own.
func bodyLimit(webhookMax int) int {
	if webhookMax <= 0 {
		return DefaultWebhookMaxBytes
	}
	return webhookMax
}

// DefaultWebhookMaxBytes is the default webhook body limit: TASK_FINISHED with
// includePayload carries up to 300 items per datapoint.
const DefaultWebhookMaxBytes = 10 << 20
