package views

import "time"

// OverviewPageVM is /admin: what happened in the chosen range, where users
// drop out of the connect flow, what failed and whether webhooks arrive.
type OverviewPageVM struct {
	LayoutVM
	Now time.Time
	// Ranges are the range choices (24 h, 7 d, 30 d); RangeText names the
	// chosen one ("the last 7 days").
	Ranges    []RangeChoiceVM
	RangeText string
	// TotalEvents counts every stored event (all time).
	TotalEvents int64
	Users       LinkedCountVM
	// EventsInRange counts events dated in the range.
	EventsInRange LinkedCountVM
	// Accounts counts accounts per Smile status, in Smile's lifecycle order.
	Accounts []LinkedCountVM
	Chart    BarChartVM
	Funnel   FunnelVM
	Errors   []ErrorCodeVM
	Health   WebhookHealthVM
	// Lag and Gaps are nil when the dependency behind them is not wired.
	Lag        *ProjectorLagVM
	Gaps       *GapsVM
	Counts     []TypeCountVM
	Rejections []DeliveryVM
	Failures   []EventRowVM
}

// RangeChoiceVM is one choice of the overview's time range.
type RangeChoiceVM struct {
	Value, Label, URL string
	Current           bool
}

// LinkedCountVM is a number and the filtered list behind it.
type LinkedCountVM struct {
	Label string
	N     string // formatted; bounded counts say "10,000+"
	URL   string
	Class string // a status class, or ""
	Hint  string // what the label means, in plain words
}

// FunnelVM is the connection funnel, overall and per provider.
type FunnelVM struct {
	Steps     []FunnelStepVM
	Providers []ProviderFunnelVM
}

// FunnelStepVM is one step of the funnel: its count, the rate from the step
// before it ("" for the first) and where the count comes from.
type FunnelStepVM struct {
	Label, N, URL, Rate, Source string
}

// ProviderFunnelVM is the account part of the funnel for one provider.
type ProviderFunnelVM struct {
	Provider                   string
	Created, Connected, Failed LinkedCountVM
	ConnectRate, ErrorRate     string
}

// ErrorCodeVM is one error code, what it means and how often it came.
type ErrorCodeVM struct {
	Code, Meaning, Type, N, URL string
}

// WebhookHealthVM says whether Smile's webhooks arrive and verify.
type WebhookHealthVM struct {
	// LastURL is "" when no event is stored.
	LastType, LastURL        string
	LastSmileAt, LastOurAt   time.Time
	Refusals                 []LinkedCountVM
	RefusalsURL, SecretsNote string
	Secrets                  []LinkedCountVM
}

// ProjectorLagVM is how far the projector is behind the log.
type ProjectorLagVM struct {
	Events string
	Behind string
	Error  string
	OK     bool
	// Parked counts the events the projections could not take; ParkedList
	// shows the newest of them.
	Parked     string
	ParkedList []ParkedEventVM
}

// ParkedEventVM is an event the projections could not take.
type ParkedEventVM struct {
	EventID, URL, Error string
	At                  time.Time
}

// GapsVM counts open gaps (widget claims without a matching webhook) by kind.
type GapsVM struct {
	Kinds []LinkedCountVM
	Total string
	URL   string
	Error string
}
