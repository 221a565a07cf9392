package handlers

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/static"
)

// WebhookIngester stores verified webhooks durably (models.Ingester).
type WebhookIngester interface {
	Submit(ctx context.Context, in *models.Incoming) (models.Result, error)
	Reject(r models.Rejection) bool
}

var _ WebhookIngester = (*models.Ingester)(nil)

// WebhookConfig is what the receiver needs to know.
type WebhookConfig struct {
	// Secrets verify Smile-Signature; any may match, the first is current.
	Secrets [][]byte
	// AllowedIPs may send webhooks; TrustedProxies may vouch for others.
	AllowedIPs     IPSet
	TrustedProxies IPSet
	// MaxBytes bounds a webhook body.
	MaxBytes int
}

// Deps is everything the HTTP layer is built from.
type Deps struct {
	Log      *slog.Logger
	Webhooks WebhookConfig
	Ingester WebhookIngester
	Metrics  *Metrics
	// Ready reports whether the service can take traffic (database reachable,
	// migrations current); nil means always ready.
	Ready func(ctx context.Context) error
	Now   func() time.Time
	// Assets are the embedded CSS and JS.
	Assets *static.Assets
	// Store is the database. Feature files declare the small interfaces they use
	// of it and check *models.Store satisfies them.
	Store *models.Store
	// Auth is admins, sign-in, sessions and API tokens (an *auth.Store); nil
	// means nobody can sign in.
	Auth AdminStore
	// Connect serves end users' connect links (connect.go).
	Connect ConnectDeps
	// Admin is sign-in, sessions and API tokens (auth.go).
	Admin AdminDeps
	// Pages serves the dashboard pages and the live stream (admin_pages.go).
	Pages PagesDeps
	// Recon is reconciliation: gaps, stale data, Check with Smile (gaps.go).
	Recon ReconDeps
}

// Handler holds the dependencies every route handler shares.
type Handler struct {
	log        *slog.Logger
	deps       Deps
	now        func() time.Time
	requestIDs *requestIDs
	// reprojecting is set while a re-projection started from the dashboard runs.
	reprojecting    atomic.Bool
	renderErrorPage func(c *fiber.Ctx, status int, public string) error
	// edge is what runs on fasthttp's hooks, below the router (edge.go).
	edge *edge
	// lag is the projector's lag, read at most once a second (projector_lag.go).
	lag *lagCache
}

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

// AdminStore is the auth store as sign-in (AuthStore) and the admins and
// tokens pages (AccessStore) use it.
type AdminStore interface {
	AuthStore
	AccessStore
}
