package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// apiGap is one gap. status is waiting, open or closed (late); lateSeconds is
// how long after the claim the closing webhook was stamped.
type apiGap struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	UserID      string     `json:"userId"`
	AccountID   string     `json:"accountId,omitempty"`
	CallbackID  *int64     `json:"callbackId,omitempty"`
	EventID     string     `json:"eventId,omitempty"`
	ClaimedAt   time.Time  `json:"claimedAt"`
	ClosedAt    *time.Time `json:"closedAt"`
	ClosedBy    string     `json:"closedBy,omitempty"`
	LateSeconds *int64     `json:"lateSeconds,omitempty"`
	CheckedAt   *time.Time `json:"checkedAt,omitempty"`
}

// apiGapCounts are bounded counts: past 10,000 a count says 10000 and its
// atLeast flag is set.
type apiGapCounts struct {
	Open           int64            `json:"open"`
	OpenAtLeast    bool             `json:"openAtLeast,omitempty"`
	Waiting        int64            `json:"waiting"`
	WaitingAtLeast bool             `json:"waitingAtLeast,omitempty"`
	Closed         int64            `json:"closed"`
	ClosedAtLeast  bool             `json:"closedAtLeast,omitempty"`
	OpenByKind     map[string]int64 `json:"openByKind"`
}

type apiGapPage struct {
	Items         []apiGap     `json:"items"`
	Next          string       `json:"next,omitempty"`
	WindowSeconds int64        `json:"windowSeconds"`
	Counts        apiGapCounts `json:"counts"`
}

// apiGaps is GET /api/v1/gaps?status=&kind=&user=&account=&cursor=&limit=:
// gaps newest claim first, keyset-paged, with the counts. status is open
// (default), waiting, closed, unresolved, all or matched; an unknown status or
// kind, or a cursor this API did not make, is a 400.
func (h *Handler) apiGaps(c *fiber.Ctx) error {
	page, err := h.recon().Gaps(c.UserContext(), h.gapQuery(c))
	if err != nil {
		return gapErr(err)
	}
	counts, err := h.recon().GapCounts(c.UserContext(), h.now())
	if err != nil {
		return err
	}
	out := apiGapPage{Items: []apiGap{}, Next: page.Next, WindowSeconds: int64(h.recon().GapWindow() / time.Second),
		Counts: apiGapCounts{Open: counts.Open.N, OpenAtLeast: counts.Open.AtLeast, Waiting: counts.Waiting.N,
			WaitingAtLeast: counts.Waiting.AtLeast, Closed: counts.Closed.N, ClosedAtLeast: counts.Closed.AtLeast,
			OpenByKind: map[string]int64{}}}
	for k, n := range counts.OpenByKind {
		out.Counts.OpenByKind[k] = n.N
	}
	for _, g := range page.Gaps {
		out.Items = append(out.Items, apiGap{ID: g.ID, Kind: g.Kind, Status: g.Status, UserID: g.UserID, AccountID: g.AccountID,
			CallbackID: g.CallbackID, EventID: g.EventID, ClaimedAt: g.ClaimedAt, ClosedAt: g.ClosedAt, ClosedBy: g.ClosedBy,
			LateSeconds: g.LagSeconds, CheckedAt: g.CheckedAt})
	}
	return c.JSON(out)
}

type apiLifecycleStep struct {
	State     string     `json:"state"`
	EventID   string     `json:"eventId"`
	From      time.Time  `json:"from"`
	Until     *time.Time `json:"until"`
	Seconds   int64      `json:"seconds"`
	ErrorCode string     `json:"errorCode,omitempty"`
	Flag      string     `json:"flag,omitempty"`
}

type apiLifecycle struct {
	AccountID string             `json:"accountId"`
	Truncated bool               `json:"truncated"`
	Steps     []apiLifecycleStep `json:"steps"`
}

// apiLifecycle is GET /api/v1/accounts/:id/lifecycle: the account's Smile
// connection states in order, seconds in each (the last until now, with until
// null) and the surprising transitions flagged. An unknown account is a 404.
func (h *Handler) apiLifecycle(c *fiber.Ctx) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	lc, err := h.recon().AccountLifecycle(c.UserContext(), id, h.now())
	if err != nil {
		return err
	}
	out := apiLifecycle{AccountID: lc.AccountID, Truncated: lc.Truncated, Steps: []apiLifecycleStep{}}
	for _, st := range lc.Steps {
		step := apiLifecycleStep{State: st.State, EventID: st.EventID, From: st.From, Seconds: int64(st.Duration / time.Second),
			ErrorCode: st.ErrorCode, Flag: st.Flag}
		if !st.Until.IsZero() {
			until := st.Until
			step.Until = &until
		}
		out.Steps = append(out.Steps, step)
	}
	return c.JSON(out)
}

type apiAttentionAccount struct {
	AccountID       string     `json:"accountId"`
	UserID          string     `json:"userId"`
	Provider        string     `json:"provider"`
	Status          string     `json:"status"`
	MonitorStatus   *string    `json:"monitorStatus"`
	LastSeenAt      time.Time  `json:"lastSeenAt"`
	LastRefreshedAt *time.Time `json:"lastRefreshedAt,omitempty"`
}

type apiStaleLists struct {
	StaleAfterSeconds int64                 `json:"staleAfterSeconds"`
	Stale             []apiAttentionAccount `json:"stale"`
	ActionRequired    []apiAttentionAccount `json:"actionRequired"`
}

// apiStale is GET /api/v1/stale: accounts whose datapoints were not refreshed
// within SMILEDASH_STALE_AFTER (most recently gone stale first) and accounts whose monitor
// status is USER_ACTION_REQUIRED, at most 200 of each.
func (h *Handler) apiStale(c *fiber.Ctx) error {
	ctx := c.UserContext()
	stale, err := h.recon().StaleAccounts(ctx, h.now(), h.staleAfter(), 0)
	if err != nil {
		return err
	}
	action, err := h.recon().ActionRequired(ctx, 0)
	if err != nil {
		return err
	}
	out := apiStaleLists{StaleAfterSeconds: int64(h.staleAfter() / time.Second), Stale: apiAttention(stale, true), ActionRequired: apiAttention(action, false)}
	return c.JSON(out)
}

func apiAttention(rows []models.AttentionAccount, stale bool) []apiAttentionAccount {
	out := make([]apiAttentionAccount, 0, len(rows))
	for _, r := range rows {
		a := apiAttentionAccount{AccountID: r.AccountID, UserID: r.UserID, Provider: r.Provider, Status: r.Status, LastSeenAt: r.LastSeenAt}
		if r.MonitorStatus != "" {
			a.MonitorStatus = &r.MonitorStatus
		}
		if stale {
			at := r.LastRefreshedAt
			a.LastRefreshedAt = &at
		}
		out = append(out, a)
	}
	return out
}
