package handlers

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/live"
	"smiledash/views"
)

// PagesDeps is what the dashboard pages need beyond the shared Deps.
type PagesDeps struct {
	// Done closes when the server shuts down; live streams end then, so
	// graceful shutdown is not held open by browsers.
	Done <-chan struct{}
	// Heartbeat is how often an idle live stream sends a comment (default 20s).
	Heartbeat time.Duration
	// Settings is what the settings page shows.
	Settings SettingsInfo
	// Registrar registers our webhook with Smile; nil without credentials.
	Registrar WebhookRegistrar
	// Background runs long admin jobs (re-projection) after the response is
	// sent; nil runs them on a new goroutine. Tests run them in place.
	Background func(job func())
	// ProjectorLag feeds the overview's projector-lag panel (overview.go) and
	// every page's lag banner (projector_lag.go), left out while it is nil.
	ProjectorLag ProjectorLagReader
	// LagWarn is the projector lag past which the banner turns into a
	// warning (default ingest.DefaultLagWarn).
	LagWarn time.Duration
}

// SettingsInfo is the configuration the settings page explains.
type SettingsInfo struct {
	WebhookURL string
	// Secrets are the configured webhook secrets, current first. They are only
	// ever shown masked.
	Secrets    []string
	AllowedIPs string
	Sandbox    bool
}

// PageStore is what the dashboard pages and the JSON API read, and the
// actions on them write (re-projection and erasure go through Stores.Log,
// deps.go). The pages with a store interface of their own (records.go,
// search.go, overview.go) get it from this one, so one fake serves the whole
// page group.
type PageStore interface {
	RecordStore
	SearchStore
	OverviewStore
	Users(ctx context.Context, q models.UsersQuery) (models.UsersPage, error)
	Providers(ctx context.Context) ([]string, error)
	UserByID(ctx context.Context, id string) (models.SmileUser, error)
	UserDetail(ctx context.Context, id string) (models.UserDetail, error)
	Timeline(ctx context.Context, q models.TimelineQuery) (models.TimelinePage, error)
	TimelineItem(ctx context.Context, kind string, id int64, rawPrefix int) (models.TimelineItem, int64, error)
	Events(ctx context.Context, q models.EventsQuery) (models.EventsPage, error)
	EventsBetween(ctx context.Context, q models.EventsQuery, after, before int64) (models.Count, error)
	EventBySeq(ctx context.Context, seq int64) (models.EventDetail, error)
	EventByEventID(ctx context.Context, id string) (models.EventDetail, error)
	Deliveries(ctx context.Context, q models.DeliveriesQuery) (models.DeliveriesPage, error)
	Overview(ctx context.Context) (models.Overview, error)
	LatestSecretIndex(ctx context.Context) (int, bool, error)
	CreateAction(ctx context.Context, a *models.Action) error
}

var _ PageStore = (*models.Store)(nil)

// ChangeFeed is where the live stream hears of stored items (a live.Bus).
type ChangeFeed interface {
	Subscribe(f func(live.Change)) (cancel func())
}

var _ ChangeFeed = (*live.Bus)(nil)

func (h *Handler) changes() ChangeFeed { return h.deps.Stores.Changes }

func (h *Handler) pages() PageStore { return h.deps.Stores.Pages }

// pageLayout is the layout with the clock (time zone, copy buttons) and live
// scripts added, in that order: live.js uses the clock.
func (h *Handler) pageLayout(c *fiber.Ctx, title, active string) views.LayoutVM {
	vm := h.layout(c, title, active)
	vm.Scripts = append(vm.Scripts, h.deps.Assets.URL("js/clock.js"), h.deps.Assets.URL("js/live.js"))
	return vm
}

// pageErr turns a models error from a page query into the right response.
func pageErr(err error) error {
	if errors.Is(err, models.ErrBadCursor) {
		return badRequest("This page link is not valid any more. Start again from the first page.", err)
	}
	return err
}

// withQuery returns path with the query parameters, skipping empty ones.
func withQuery(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// pathParam returns a route parameter percent-decoded (fiber leaves it raw).
func pathParam(c *fiber.Ctx, name string) (string, error) {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil {
		return "", badRequest("This address is malformed.", err)
	}
	return v, nil
}

func userURL(id string) string { return "/admin/users/" + url.PathEscape(id) }

func eventURL(seq int64) string { return "/admin/events/" + strconv.FormatInt(seq, 10) }
