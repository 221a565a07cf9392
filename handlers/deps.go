package handlers

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/static"
)

// WebhookIngester stores verified webhooks durably (ingest.Writer).
type WebhookIngester interface {
	Submit(ctx context.Context, in *ingest.Incoming) (ingest.Result, error)
	Reject(r ingest.Rejection) bool
}

var _ WebhookIngester = (*ingest.Writer)(nil)

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
// may be absent:
//   - Log, Now, Metrics and Assets get defaults;
//   - Ingester and every Stores field are required, and NewApp panics without
//     one: no part of the app runs without its store, so no handler checks
//     for a missing one;
//   - the rest turn one feature off when nil, and only the handlers of that
//     feature look: Ready (always ready), Connect.Sandbox (no /sandbox
//     route), Pages.Registrar (no webhook registration from the settings
//     page), Recon.Smile (no Check with Smile), Connect.Smile (no revoking at
//     Smile on erasure; the connect pages need it), Pages.ProjectorLag (no lag
//     panel).
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
	// Log is the event log's write side the pages use: what an event
	// changed, rebuilds, erasures.
	Log EventLog
}

// EventLog is what the pages use of the event log's write side (ingest.Log):
// an event's effects on the projections (events.go), rebuilding them
// (settings_reproject.go) and erasing a user (erase.go).
type EventLog interface {
	EventEffects(ctx context.Context, ev models.Event) (ingest.Effects, error)
	Reproject(ctx context.Context) (int, error)
	EraseUser(ctx context.Context, req ingest.EraseRequest) (ingest.ErasureReport, error)
}

var _ EventLog = (*ingest.Log)(nil)

func (h *Handler) eventLog() EventLog { return h.deps.Stores.Log }

// missing names the required dependencies that are nil.
func (d Deps) missing() []string {
	var out []string
	for name, absent := range map[string]bool{
		"Ingester": d.Ingester == nil, "Stores.Pages": d.Stores.Pages == nil, "Stores.Links": d.Stores.Links == nil,
		"Stores.Connect": d.Stores.Connect == nil, "Stores.Recon": d.Stores.Recon == nil, "Stores.Audit": d.Stores.Audit == nil,
		"Stores.Auth": d.Stores.Auth == nil, "Stores.Changes": d.Stores.Changes == nil, "Stores.Log": d.Stores.Log == nil,
	} {
		if absent {
			out = append(out, name)
		}
	}
	slices.Sort(out)
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
