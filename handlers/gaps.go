package handlers

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// ReconDeps is what reconciliation needs beyond the shared Deps: gaps, stale
// data and Check with Smile.
type ReconDeps struct {
	// StaleAfter is how old an account's newest datapoint may be before the
	// account is listed as stale (default models.DefaultStaleAfter).
	StaleAfter time.Duration
	// Smile is read by Check with Smile: the real API, or the sandbox's fake
	// one; nil hides the check.
	Smile models.SmileReader
}

// ReconStore is what the reconciliation pages and API read and record.
type ReconStore interface {
	UserByID(ctx context.Context, id string) (models.SmileUser, error)
	Gaps(ctx context.Context, q models.GapQuery) (models.GapPage, error)
	GapCounts(ctx context.Context, now time.Time) (models.GapCounts, error)
	GapWindow() time.Duration
	UserGaps(ctx context.Context, userKey int64, now time.Time) ([]models.Gap, error)
	AccountLifecycle(ctx context.Context, accountID string, now time.Time) (models.Lifecycle, error)
	UserLifecycles(ctx context.Context, userKey int64, now time.Time) (map[string]models.Lifecycle, error)
	StaleAccounts(ctx context.Context, now time.Time, age time.Duration, limit int) ([]models.AttentionAccount, error)
	ActionRequired(ctx context.Context, limit int) ([]models.AttentionAccount, error)
	CheckUser(ctx context.Context, api models.SmileReader, userID, actor string, now time.Time) (models.CheckResult, error)
	CheckAccount(ctx context.Context, api models.SmileReader, accountID, actor string, now time.Time) (models.CheckResult, error)
	LatestCheck(ctx context.Context, userKey int64) (models.CheckResult, bool, error)
}

var _ ReconStore = (*models.Store)(nil)

func (h *Handler) recon() ReconStore { return h.deps.Stores.Recon }

func (h *Handler) staleAfter() time.Duration {
	if d := h.deps.Recon.StaleAfter; d > 0 {
		return d
	}
	return models.DefaultStaleAfter
}

// gapQuery reads the gap filters shared by the page and the API: status,
// kind, user, account, cursor and limit. An unknown status or kind is a 400.
func (h *Handler) gapQuery(c *fiber.Ctx) models.GapQuery {
	return models.GapQuery{Status: c.Query("status"), Kind: c.Query("kind"), UserID: c.Query("user"),
		AccountID: c.Query("account"), Before: c.Query("cursor"), Limit: c.QueryInt("limit"), Now: h.now()}
}

func gapErr(err error) error {
	if errors.Is(err, models.ErrBadGapFilter) {
		return badRequest("Unknown gap status or kind.", err)
	}
	return pageErr(err)
}

// showAttention is GET /admin/attention: gap counts and a filtered, keyset-
// paged gap list, stale accounts and the USER_ACTION_REQUIRED list. A bad
// filter or cursor is a 400 in plain words; htmx "load more" gets rows only.
func (h *Handler) showAttention(c *fiber.Ctx) error {
	ctx, now := c.UserContext(), h.now()
	q := h.gapQuery(c)
	q.Limit = 0
	page, err := h.recon().Gaps(ctx, q)
	if err != nil {
		return gapErr(err)
	}
	status := q.Status
	if status == "" {
		status = models.GapOpen
	}
	rows := views.GapRowsVM{Now: now, Rows: gapVMs(page.Gaps)}
	if page.Next != "" {
		rows.NextURL = withQuery("/admin/attention", "status", status, "kind", q.Kind, "user", q.UserID, "account", q.AccountID, "cursor", page.Next)
	}
	if isHTMX(c) && q.Before != "" {
		return render(c, fiber.StatusOK, views.GapRows(rows))
	}
	counts, err := h.recon().GapCounts(ctx, now)
	if err != nil {
		return err
	}
	stale, err := h.recon().StaleAccounts(ctx, now, h.staleAfter(), attentionPageRows)
	if err != nil {
		return err
	}
	action, err := h.recon().ActionRequired(ctx, attentionPageRows)
	if err != nil {
		return err
	}
	vm := views.AttentionPageVM{
		LayoutVM: h.pageLayout(c, "Needs attention", "attention"), Now: now,
		Window: views.DurationText(h.recon().GapWindow()), StaleAfter: views.DurationText(h.staleAfter()),
		Waiting: views.CountText(counts.Waiting.N, counts.Waiting.AtLeast), Open: views.CountText(counts.Open.N, counts.Open.AtLeast),
		Closed: views.CountText(counts.Closed.N, counts.Closed.AtLeast),
		Gaps:   rows, Stale: attentionVMs(stale), Action: attentionVMs(action),
	}
	for _, k := range models.GapKinds {
		if n, ok := counts.OpenByKind[k]; ok {
			vm.OpenByKind = append(vm.OpenByKind, views.KindCountVM{Kind: k, N: views.CountText(n.N, n.AtLeast), URL: withQuery("/admin/attention", "status", models.GapOpen, "kind", k) + "#gaps"})
		}
	}
	for _, s := range []string{models.GapOpen, models.GapWaiting, models.GapClosed, models.GapAll} {
		vm.Statuses = append(vm.Statuses, views.FilterLinkVM{Label: s, Active: s == status,
			URL: withQuery("/admin/attention", "status", s, "kind", q.Kind) + "#gaps"})
	}
	vm.Kinds = append(vm.Kinds, views.FilterLinkVM{Label: "every kind", Active: q.Kind == "", URL: withQuery("/admin/attention", "status", status) + "#gaps"})
	for _, k := range models.GapKinds {
		vm.Kinds = append(vm.Kinds, views.FilterLinkVM{Label: k, Active: k == q.Kind, URL: withQuery("/admin/attention", "status", status, "kind", k) + "#gaps"})
	}
	return render(c, fiber.StatusOK, views.AttentionPage(vm))
}

// attentionPageRows is how many stale and action-required accounts the page
// lists; the API lists up to 200 of each.
const attentionPageRows = 50

func gapVMs(gaps []models.Gap) []views.GapVM {
	out := make([]views.GapVM, 0, len(gaps))
	for _, g := range gaps {
		vm := views.GapVM{Kind: g.Kind, Status: g.Status, UserID: g.UserID, AccountID: g.AccountID,
			ClaimedAt: g.ClaimedAt, ClosedBy: g.ClosedBy, Checked: g.CheckedAt != nil}
		if g.UserID != "" {
			vm.UserURL = userURL(g.UserID)
		}
		if g.ClosedAt != nil {
			vm.ClosedAt = *g.ClosedAt
		}
		if g.LagSeconds != nil {
			vm.Late = views.DurationText(time.Duration(*g.LagSeconds) * time.Second)
		}
		out = append(out, vm)
	}
	return out
}

func attentionVMs(rows []models.AttentionAccount) []views.AttentionAccountVM {
	out := make([]views.AttentionAccountVM, 0, len(rows))
	for _, r := range rows {
		out = append(out, views.AttentionAccountVM{AccountID: r.AccountID, UserID: r.UserID, UserURL: userURL(r.UserID),
			Provider: r.Provider, Status: r.Status, Monitor: r.MonitorStatus, LastSeen: r.LastSeenAt, LastRefreshed: r.LastRefreshedAt})
	}
	return out
}

// userReconVM builds the user page's reconciliation section: the user's gaps,
// each account's lifecycle and the latest Check with Smile.
func (h *Handler) userReconVM(c *fiber.Ctx, u models.SmileUser, accounts []models.Account, data map[string][]models.DataAvailability) (views.UserReconVM, error) {
	ctx, now := c.UserContext(), h.now()
	vm := views.UserReconVM{Now: now}
	if u.Pending() {
		// No gap, lifecycle or check has their key yet, and a check is
		// recorded on the user's row.
		vm.CheckNote = "Check with Smile is offered once the projector has created this user."
		return vm, nil
	}
	gaps, err := h.recon().UserGaps(ctx, u.UserKey, now)
	if err != nil {
		return vm, err
	}
	for i := range gaps {
		gaps[i].UserID = u.ID
	}
	vm.Gaps = gapVMs(gaps)
	canCheck := h.deps.Recon.Smile != nil && currentRole(c) == RoleAdmin
	lifecycles, err := h.recon().UserLifecycles(ctx, u.UserKey, now)
	if err != nil {
		return vm, err
	}
	for _, a := range accounts {
		lc, ok := lifecycles[a.ID]
		if !ok {
			lc = models.Lifecycle{AccountID: a.ID, UserKey: u.UserKey}
		}
		lvm := lifecycleVM(lc, now)
		lvm.Stale = isStale(a, data[a.ID], now, h.staleAfter())
		lvm.ActionRequired = a.MonitorStatus == models.MonitorUserActionRequired
		if canCheck {
			lvm.CheckURL = "/admin/accounts/" + url.PathEscape(a.ID) + "/check"
		}
		vm.Lifecycles = append(vm.Lifecycles, lvm)
	}
	switch {
	case h.deps.Recon.Smile == nil:
		vm.CheckNote = "Check with Smile needs Smile API credentials."
	case currentRole(c) != RoleAdmin:
		vm.CheckNote = "Only admins can check with Smile."
	default:
		vm.CheckURL = userURL(u.ID) + "/check"
	}
	last, ok, err := h.recon().LatestCheck(ctx, u.UserKey)
	if err != nil {
		return vm, err
	}
	if ok {
		cv := checkVM(last)
		vm.Check = &cv
	}
	return vm, nil
}

// isStale is the attention page's rule for one account: not disconnected, has
// datapoints, and none refreshed within age.
func isStale(a models.Account, data []models.DataAvailability, now time.Time, age time.Duration) bool {
	if a.Status == models.AccountDisconnected || len(data) == 0 {
		return false
	}
	for _, d := range data {
		if !d.LastUpdatedAt.Before(now.Add(-age)) {
			return false
		}
	}
	return true
}

func lifecycleVM(lc models.Lifecycle, now time.Time) views.LifecycleVM {
	vm := views.LifecycleVM{AccountID: lc.AccountID, Truncated: lc.Truncated}
	for i, st := range lc.Steps {
		vm.Steps = append(vm.Steps, views.LifecycleStepVM{State: st.State, From: st.From, Duration: views.DurationText(st.Duration),
			Current: i == len(lc.Steps)-1, ErrorCode: st.ErrorCode, Flag: st.Flag, FlagText: views.LifecycleFlagText(st.Flag)})
	}
	return vm
}

func checkVM(r models.CheckResult) views.CheckVM {
	vm := views.CheckVM{At: r.At, Actor: r.Actor, Error: r.Error, Differences: r.Differences}
	for _, f := range r.Fields {
		vm.Rows = append(vm.Rows, views.CheckRowVM{AccountID: f.AccountID, Field: f.Field, Ours: f.Ours, Smile: f.Smile, Differs: f.Differs})
	}
	return vm
}
