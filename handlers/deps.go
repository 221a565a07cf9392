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

// Deps is everything the HTTP layer is built from. NewApp decides once what
// may be absent: Log, Now, Metrics and Assets get defaults; Ingester and every
// Stores field are required (NewApp panics without one: no part of the app
// runs without its store, so there is no half-built mode to guard against);
// the optional collaborators say in their own comments what their absence
// turns off.
type Deps struct {
	Log      *slog.Logger
	Webhooks WebhookConfig
	Ingester WebhookIngester
	Metrics  *Metrics
	// Ready reports whether the service can take traffic (database reachable,
	// migrations current); nil means always ready.
	Ready func(ctx context.Context) error
	Now   func() time.Time
	// Assets are the embedded CSS and JS; nil means static.New().
	Assets *static.Assets
	// Stores is the database, as each group of handlers uses it.
	Stores Stores
	// Connect serves end users' connect links (connect.go).
	Connect ConnectDeps
	// Admin is sign-in, sessions and API tokens (auth.go).
	Admin AdminDeps
	// Pages serves the dashboard pages and the live stream (admin_pages.go).
	Pages PagesDeps
	// Recon is reconciliation: gaps, stale data, Check with Smile (gaps.go).
	Recon ReconDeps
}

// Stores is the database as each group of handlers uses it: every field is
// the small interface declared next to the handlers that use it, so a test
// can put a fake behind one group (connect_fake_test.go, auth_fake_test.go)
// while the others run on a real store. cmd/smiledash fills them from one
// *models.Store and its *auth.Store. All are required.
type Stores struct {
	// Pages is what the dashboard pages and the JSON API read, and the
	// actions on them write (admin_pages.go).
	Pages PageStore
	// Links is the admins' management of connect links (links.go).
	Links LinkStore
	// Connect is the end users' side of connect links (connect.go).
	Connect ConnectStore
	// Recon is gaps, stale data and Check with Smile (gaps.go).
	Recon ReconStore
	// Audit records who changed what, and reads it back (admins.go).
	Audit AuditStore
	// Auth is admins, sign-in, sessions and API tokens (auth.go, admins.go).
	Auth AdminStore
	// Changes is where the live stream hears of stored items (stream.go).
	Changes ChangeFeed
}

// missing names the Stores fields that are nil.
func (s Stores) missing() []string {
	var out []string
	for _, f := range []struct {
		name string
		nil  bool
	}{
		{"Pages", s.Pages == nil}, {"Links", s.Links == nil}, {"Connect", s.Connect == nil},
		{"Recon", s.Recon == nil}, {"Audit", s.Audit == nil}, {"Auth", s.Auth == nil},
		{"Changes", s.Changes == nil},
	} {
		if f.nil {
			out = append(out, "Stores."+f.name)
		}
	}
	return out
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
