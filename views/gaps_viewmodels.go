package views

import (
	"fmt"
	"time"
)

// GapVM is one gap: a widget claim no webhook matched in time, or a user no
// connect link reached.
type GapVM struct {
	Kind      string
	Status    string // waiting, open, closed
	UserID    string
	UserURL   string
	AccountID string
	ClaimedAt time.Time
	ClosedAt  time.Time // zero while open
	ClosedBy  string
	Late      string // how late the closing webhook was, e.g. "20m0s"
	Checked   bool   // the sweep has checked it with Smile
}

// KindCountVM is how many open gaps of one kind there are.
type KindCountVM struct {
	Kind string
	N    string
	URL  string
}

// FilterLinkVM is one choice of a list filter.
type FilterLinkVM struct {
	Label  string
	URL    string
	Active bool
}

// AttentionPageVM is /admin/attention: gaps, stale accounts and accounts
// whose user must act.
type AttentionPageVM struct {
	LayoutVM
	Now        time.Time
	Window     string
	StaleAfter string
	Waiting    string
	Open       string
	Closed     string
	OpenByKind []KindCountVM
	Statuses   []FilterLinkVM
	Kinds      []FilterLinkVM
	Gaps       GapRowsVM
	Stale      []AttentionAccountVM
	Action     []AttentionAccountVM
}

// GapRowsVM is a page of gaps; "load more" appends the next.
type GapRowsVM struct {
	Now     time.Time
	Rows    []GapVM
	NextURL string
}

// AttentionAccountVM is an account listed as stale or needing its user.
type AttentionAccountVM struct {
	AccountID     string
	UserID        string
	UserURL       string
	Provider      string
	Status        string
	Monitor       string
	LastSeen      time.Time
	LastRefreshed time.Time
}

// UserReconVM is the reconciliation part of the user page: the user's gaps,
// each account's lifecycle and the latest Check with Smile.
type UserReconVM struct {
	Now        time.Time
	Gaps       []GapVM
	Lifecycles []LifecycleVM
	Check      *CheckVM
	// CheckURL is where the Check with Smile button posts; empty hides it
	// (viewers, or no Smile to ask).
	CheckURL  string
	CheckNote string
}

// LifecycleVM is one account's sequence of Smile connection states.
type LifecycleVM struct {
	AccountID string
	// CheckURL checks this account with Smile; empty hides the button.
	CheckURL string
	// Stale: no datapoint was refreshed within SMILEDASH_STALE_AFTER.
	Stale bool
	// ActionRequired: Smile's monitor status is USER_ACTION_REQUIRED.
	ActionRequired bool
	Steps          []LifecycleStepVM
	Truncated      bool
}

// LifecycleStepVM is one state and how long the account stayed in it.
type LifecycleStepVM struct {
	State     string
	From      time.Time
	Duration  string
	Current   bool
	ErrorCode string
	Flag      string
	FlagText  string
}

// CheckVM is a Check with Smile as recorded.
type CheckVM struct {
	At          time.Time
	Actor       string
	Error       string
	Differences int
	Rows        []CheckRowVM
}

// CheckRowVM is one compared field.
type CheckRowVM struct {
	AccountID string
	Field     string
	Ours      string
	Smile     string
	Differs   bool
}

// GapKindText says what a gap kind means, in plain words.
func GapKindText(kind string) string {
	switch kind {
	case "account_connected":
		return "The widget said the account connected; Smile sent no ACCOUNT_CONNECTED."
	case "account_error":
		return "The widget reported an error; Smile sent no ACCOUNT_FAILED for the account."
	case "uploads_created":
		return "The widget said documents were uploaded; Smile sent no ARCHIVE_STARTED."
	case "account_removed":
		return "The widget said the account was removed; Smile sent no ACCOUNT_DISCONNECTED."
	case "no_link":
		return "Smile sent webhooks for a user no connect link of ours was opened for."
	}
	return kind
}

// LifecycleFlagText says why a transition is surprising.
func LifecycleFlagText(flag string) string {
	switch flag {
	case "reconnected_without_create":
		return "Connected again after being disconnected, without a new ACCOUNT_CREATED."
	case "recovered_without_task":
		return "Went from ERROR to CONNECTED without a new task for the account."
	case "after_disconnected":
		return "An error after the account was disconnected, without a new ACCOUNT_CREATED."
	case "no_account_created":
		return "Smile's ACCOUNT_CREATED for this account never arrived."
	}
	return flag
}

// DurationText is a compact duration: "45s", "12m", "3h 5m", "4d 2h".
func DurationText(d time.Duration) string {
	switch {
	case d < 0:
		return "—"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

func gapClass(status string) string {
	switch status {
	case "open":
		return "bad"
	case "waiting", "closed":
		return "warn"
	}
	return "info"
}

func attentionWhen(stale bool) string {
	if stale {
		return "Last refreshed"
	}
	return "Last activity"
}

func checkFieldWord(n int) string {
	if n == 1 {
		return "field"
	}
	return "fields"
}
