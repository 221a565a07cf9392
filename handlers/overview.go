package handlers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// ProjectorLagReader tells how far the projector is behind the event log:
// events stored but not yet projected, the oldest of them, and how many are
// parked. The overview shows it in webhook health, and every page says so in
// a banner when it matters (projector_lag.go), when PagesDeps.ProjectorLag is
// set.
type ProjectorLagReader interface {
	ProjectorLag(ctx context.Context) (models.ProjectorLag, error)
	ParkedEvents(ctx context.Context, limit int) ([]models.ParkedEvent, int64, error)
}

var _ ProjectorLagReader = (*models.Store)(nil)

// OverviewStore is what the overview and its API read: counters, not the log.
type OverviewStore interface {
	Insight(ctx context.Context, q models.InsightQuery) (models.Insight, error)
	Funnel(ctx context.Context, from, to time.Time) (models.Funnel, error)
}

var _ OverviewStore = (*models.Store)(nil)

// overviewRange is one choice of the overview's time range.
type overviewRange struct {
	value, label, text string
	span, bucket       time.Duration
}

// overviewRanges are the overview's ranges. Ranges of whole days read the
// daily counters (models.Insight), so a month costs about as much as a day.
var overviewRanges = []overviewRange{
	{"24h", "24 h", "the last 24 hours", 24 * time.Hour, time.Hour},
	{"7d", "7 d", "the last 7 days", 7 * 24 * time.Hour, 24 * time.Hour},
	{"30d", "30 d", "the last 30 days", 30 * 24 * time.Hour, 24 * time.Hour},
}

const defaultOverviewRange = "7d"

// overviewWindow reads range= (24h, 7d or 30d; 7d when absent) and returns
// the range ending at the end of the current bucket, so every bucket, and
// every link to the events list, covers whole hours. Anything else is a 400.
func (h *Handler) overviewWindow(c *fiber.Ctx) (r overviewRange, from, to time.Time, err error) {
	value := c.Query("range", defaultOverviewRange)
	i := slices.IndexFunc(overviewRanges, func(r overviewRange) bool { return r.value == value })
	if i < 0 {
		return r, from, to, badRequest("The overview's range must be 24h, 7d or 30d.", nil)
	}
	r = overviewRanges[i]
	to = h.now().UTC().Truncate(r.bucket).Add(r.bucket)
	return r, to.Add(-r.span), to, nil
}

func (h *Handler) overviewStore() OverviewStore { return h.deps.Stores.Pages }

// showOverview is GET /admin?range=24h|7d|30d: totals, event volume by family,
// the connection funnel, top error codes and webhook health for the range,
// open gaps by kind, and projector lag when it is wired. Every part reads
// counters or index ranges (models.Insight), never the whole event log. An
// unknown range is a 400 that names the three choices; a failing lag or gap
// source shows in its panel rather than failing the page.
func (h *Handler) showOverview(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, from, to, err := h.overviewWindow(c)
	if err != nil {
		return err
	}
	o, err := h.pages().Overview(ctx)
	if err != nil {
		return err
	}
	in, err := h.overviewStore().Insight(ctx, models.InsightQuery{From: from, To: to, Bucket: r.bucket})
	if err != nil {
		return err
	}
	funnel, err := h.overviewStore().Funnel(ctx, from, to)
	if err != nil {
		return err
	}
	vm := views.OverviewPageVM{
		LayoutVM: h.pageLayout(c, "Overview", "overview"), Now: h.now(), RangeText: r.text, TotalEvents: o.Total,
		Users: views.LinkedCountVM{Label: "users", N: views.CountText(in.Users.N, in.Users.AtLeast), URL: "/admin/users"},
		EventsInRange: views.LinkedCountVM{Label: "events in " + r.text, N: views.Thousands(in.Events), URL: eventsInRange(from, to),
			Hint: "Events Smile dated in " + r.text},
		Chart: volumeChart(in, r, from, to), Funnel: funnelVM(funnel), Health: healthVM(in.Health),
	}
	for _, choice := range overviewRanges {
		vm.Ranges = append(vm.Ranges, views.RangeChoiceVM{Value: choice.value, Label: choice.label,
			URL: withQuery("/admin", "range", choice.value), Current: choice.value == r.value})
	}
	for _, st := range in.Accounts {
		vm.Accounts = append(vm.Accounts, views.LinkedCountVM{Label: st.Status, N: views.CountText(st.Count.N, st.Count.AtLeast),
			URL: withQuery("/admin/users", "status", st.Status), Class: views.StatusClass(st.Status),
			Hint: "Accounts whose Smile connection status is " + st.Status + " now"})
	}
	for _, e := range in.Errors {
		vm.Errors = append(vm.Errors, views.ErrorCodeVM{Code: e.Code, Meaning: views.ErrorCodeText(e.Code), Type: e.Type,
			N: views.Thousands(e.N), URL: eventsInRange(from, to, "type", e.Type)})
	}
	vm.Lag = h.projectorLagVM(ctx)
	vm.Gaps = h.gapsVM(ctx)
	for _, ct := range o.Counts {
		vm.Counts = append(vm.Counts, views.TypeCountVM{Type: ct.Type, N: ct.Stored, URL: withQuery("/admin/events", "type", ct.Type)})
	}
	for _, d := range o.Rejections {
		vm.Rejections = append(vm.Rejections, deliveryVM(d))
	}
	for _, e := range o.Failures {
		vm.Failures = append(vm.Failures, eventRowVM(e))
	}
	return render(c, fiber.StatusOK, views.OverviewPage(vm))
}

// eventsInRange links to the events list filtered to [from, to) in UTC.
func eventsInRange(from, to time.Time, kv ...string) string {
	return withQuery("/admin/events", append(kv, "from", from.UTC().Format(formTime), "to", to.UTC().Format(formTime))...)
}

// familyLabels name the event families on the chart.
var familyLabels = map[string]string{
	models.FamilyAccount: "account", models.FamilyData: "data", models.FamilyArchive: "archive", models.FamilyTask: "task",
	models.FamilyInvite: "invite", models.FamilyRecord: "record / verification", models.FamilyUser: "user", models.FamilyOther: "other",
}

// volumeChart lays out the events of the range by family, one bar per bucket.
func volumeChart(in models.Insight, r overviewRange, from, to time.Time) views.BarChartVM {
	var series []views.ChartSeriesVM
	for _, f := range models.EventFamilies {
		series = append(series, views.ChartSeriesVM{Key: f, Label: familyLabels[f], Class: "fam-" + f, N: in.Families[f],
			URL: eventsInRange(from, to, "family", f)})
	}
	buckets := make([]views.ChartBucketVM, 0, len(in.Volume))
	for _, v := range in.Volume {
		end := v.Start.Add(r.bucket)
		b := views.ChartBucketVM{Start: v.Start, End: end, Counts: v.ByFamily, URLs: map[string]string{}}
		for f := range v.ByFamily {
			b.URLs[f] = eventsInRange(v.Start, end, "family", f)
		}
		buckets = append(buckets, b)
	}
	desc := fmt.Sprintf("Webhooks Smile dated in %s, %s in all, stacked by family (account, data, archive, task, invite, "+
		"record / verification, user, other), one bar per %s in UTC. Select a bar or a family for those events.",
		r.text, views.Thousands(in.Events), bucketName(r.bucket))
	return views.StackedBars("volume-chart", "Events over "+r.text+" by family", desc, series, buckets)
}

func bucketName(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}

// funnelVM words the funnel: counts, rates from the step before and sources.
func funnelVM(f models.Funnel) views.FunnelVM {
	o := f.Overall
	typed := func(t smile.EventType) string { return eventsInRange(f.From, f.To, "type", string(t)) }
	vm := views.FunnelVM{Steps: []views.FunnelStepVM{
		{Label: "connect links opened", N: views.Thousands(o.LinksOpened), URL: "/admin/links",
			Source: "Links whose connect page was served (link_opened actions)."},
		{Label: "widgets opened", N: views.Thousands(o.WidgetsOpened), URL: "/admin/links", Rate: rate(o.WidgetsOpened, o.LinksOpened, "of links"),
			Source: "Links whose widget posted a callback (any onX, such as onUIEvent)."},
		{Label: "accounts created", N: views.Thousands(o.Created), URL: typed(smile.AccountCreated), Rate: rate(o.Created, o.WidgetsOpened, "of widgets"),
			Source: "ACCOUNT_CREATED webhooks."},
		{Label: "connected", N: views.Thousands(o.Connected), URL: typed(smile.AccountConnected), Rate: rate(o.Connected, o.Created, "of created"),
			Source: "ACCOUNT_CONNECTED webhooks."},
		{Label: "error", N: views.Thousands(o.Failed), URL: typed(smile.AccountFailed), Rate: rate(o.Failed, o.Created, "of created"),
			Source: "ACCOUNT_FAILED webhooks."},
	}}
	for _, p := range f.Providers {
		users := func(status string) string { return withQuery("/admin/users", "provider", p.Provider, "status", status) }
		vm.Providers = append(vm.Providers, views.ProviderFunnelVM{
			Provider:    p.Provider,
			Created:     views.LinkedCountVM{N: views.Thousands(p.Created), URL: users("")},
			Connected:   views.LinkedCountVM{N: views.Thousands(p.Connected), URL: users(models.AccountConnected)},
			Failed:      views.LinkedCountVM{N: views.Thousands(p.Failed), URL: users(models.AccountError)},
			ConnectRate: rate(p.Connected, p.Created, ""), ErrorRate: rate(p.Failed, p.Created, ""),
		})
	}
	return vm
}

// rate is n as a whole percentage of of ("" when of is 0), with a suffix.
func rate(n, of int64, suffix string) string {
	if of == 0 {
		return ""
	}
	s := fmt.Sprintf("%d%%", (n*100+of/2)/of)
	if suffix != "" {
		s += " " + suffix
	}
	return s
}

// healthVM words webhook health.
func healthVM(h models.WebhookHealth) views.WebhookHealthVM {
	vm := views.WebhookHealthVM{RefusalsURL: withQuery("/admin/deliveries", "outcome", models.OutcomeRejected)}
	if h.Last != nil {
		vm.LastType, vm.LastURL, vm.LastSmileAt, vm.LastOurAt = h.Last.Type, eventURL(h.Last.Seq), h.Last.CreatedAt, h.Last.ReceivedAt
	}
	for _, r := range h.Refusals {
		vm.Refusals = append(vm.Refusals, views.LinkedCountVM{Label: r.Reason, N: views.Thousands(r.N), Hint: reasonWords[r.Reason],
			URL: withQuery("/admin/deliveries", "outcome", models.OutcomeRejected, "reason", r.Reason)})
	}
	var sample int64
	for _, s := range h.Secrets {
		label := "by the current secret"
		if s.Index > 0 {
			label = fmt.Sprintf("by older secret #%d", s.Index+1)
		}
		sample += s.N
		vm.Secrets = append(vm.Secrets, views.LinkedCountVM{Label: label, N: views.Thousands(s.N), URL: "/admin/settings"})
	}
	vm.SecretsNote = fmt.Sprintf("Of the latest %s events. Secrets are listed, masked, under Settings.", views.Thousands(sample))
	return vm
}

// projectorLagVM asks the projector how far behind it is; nil when not wired.
// A failure is shown in the panel, not as a failed page.
func (h *Handler) projectorLagVM(ctx context.Context) *views.ProjectorLagVM {
	if h.deps.Pages.ProjectorLag == nil {
		return nil
	}
	lag, err := h.lag.read(ctx)
	if err != nil {
		h.log.Error("Overview: projector lag", "error", err)
		return &views.ProjectorLagVM{Error: "Could not read the projector's position."}
	}
	vm := lagVM(lag, h.now())
	if lag.Parked > 0 {
		parked, _, err := h.deps.Pages.ProjectorLag.ParkedEvents(ctx, 20)
		if err != nil {
			h.log.Error("Overview: parked events", "error", err)
		}
		for _, p := range parked {
			vm.ParkedList = append(vm.ParkedList, views.ParkedEventVM{EventID: p.EventID, URL: eventURL(p.Seq), Error: p.Error, At: p.ParkedAt})
		}
	}
	return vm
}

// gapsVM counts open gaps by kind, the same bounded counts the attention page
// shows. A failure is shown in the panel, not as a failed page.
func (h *Handler) gapsVM(ctx context.Context) *views.GapsVM {
	counts, err := h.recon().GapCounts(ctx, h.now())
	if err != nil {
		h.log.Error("Overview: open gaps", "error", err)
		return &views.GapsVM{Error: "Could not count the open gaps."}
	}
	// The attention page lists gaps; #gaps is its gap list.
	vm := &views.GapsVM{URL: withQuery("/admin/attention", "status", models.GapOpen) + "#gaps",
		Total: views.CountText(counts.Open.N, counts.Open.AtLeast)}
	for _, kind := range slices.Sorted(maps.Keys(counts.OpenByKind)) {
		n := counts.OpenByKind[kind]
		if n.N == 0 {
			continue
		}
		vm.Kinds = append(vm.Kinds, views.LinkedCountVM{Label: kind, N: views.CountText(n.N, n.AtLeast),
			URL: withQuery("/admin/attention", "status", models.GapOpen, "kind", kind) + "#gaps"})
	}
	return vm
}

// apiFunnelSteps is a funnel's counts in the API.
type apiFunnelSteps struct {
	LinksOpened     *int64 `json:"linksOpened,omitempty"`
	WidgetsOpened   *int64 `json:"widgetsOpened,omitempty"`
	AccountsCreated int64  `json:"accountsCreated"`
	Connected       int64  `json:"connected"`
	Failed          int64  `json:"failed"`
}

type apiProviderFunnel struct {
	Provider string `json:"provider"`
	apiFunnelSteps
}

type apiFunnel struct {
	From      time.Time           `json:"from"`
	To        time.Time           `json:"to"`
	Overall   apiFunnelSteps      `json:"overall"`
	Providers []apiProviderFunnel `json:"providers"`
}

// apiFunnel is GET /api/v1/funnel?range=24h|7d|30d (7d by default): the
// connection funnel of the range, overall and per provider (providers carry
// no link or widget step: those happen before a provider is known). A bad
// range is a 400.
func (h *Handler) apiFunnel(c *fiber.Ctx) error {
	_, from, to, err := h.overviewWindow(c)
	if err != nil {
		return err
	}
	f, err := h.overviewStore().Funnel(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	o := f.Overall
	out := apiFunnel{From: f.From, To: f.To, Providers: []apiProviderFunnel{}, Overall: apiFunnelSteps{
		LinksOpened: &o.LinksOpened, WidgetsOpened: &o.WidgetsOpened, AccountsCreated: o.Created, Connected: o.Connected, Failed: o.Failed}}
	for _, p := range f.Providers {
		out.Providers = append(out.Providers, apiProviderFunnel{Provider: p.Provider,
			apiFunnelSteps: apiFunnelSteps{AccountsCreated: p.Created, Connected: p.Connected, Failed: p.Failed}})
	}
	return c.JSON(out)
}

// apiCount is a bounded count: atLeast says the true number is larger.
type apiCount struct {
	Count   int64 `json:"count"`
	AtLeast bool  `json:"atLeast,omitempty"`
}

type apiOverview struct {
	From           time.Time           `json:"from"`
	To             time.Time           `json:"to"`
	Users          apiCount            `json:"users"`
	Accounts       map[string]apiCount `json:"accountsByStatus"`
	Events         int64               `json:"events"`
	EventsByFamily map[string]int64    `json:"eventsByFamily"`
}

// apiOverview is GET /api/v1/overview?range=24h|7d|30d (7d by default): the
// overview's totals (users, accounts by Smile status, events dated in the
// range by family), read from counters. A bad range is a 400.
func (h *Handler) apiOverview(c *fiber.Ctx) error {
	r, from, to, err := h.overviewWindow(c)
	if err != nil {
		return err
	}
	in, err := h.overviewStore().Insight(c.UserContext(), models.InsightQuery{From: from, To: to, Bucket: r.span})
	if err != nil {
		return err
	}
	out := apiOverview{From: from, To: to, Users: apiCount{in.Users.N, in.Users.AtLeast}, Accounts: map[string]apiCount{},
		Events: in.Events, EventsByFamily: map[string]int64{}}
	for _, st := range in.Accounts {
		out.Accounts[st.Status] = apiCount{st.Count.N, st.Count.AtLeast}
	}
	for _, f := range models.EventFamilies {
		out.EventsByFamily[f] = in.Families[f]
	}
	return c.JSON(out)
}
