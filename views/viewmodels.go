package views

// BaseVM is what every page shell needs.
type BaseVM struct {
	Title string
	// CSSURL is the content-hashed stylesheet URL.
	CSSURL string
	// IconURL is the content-hashed favicon URL ("/static/favicon.svg" if empty).
	IconURL string
}

// ErrorPageVM is a plain error page for people.
type ErrorPageVM struct {
	BaseVM
	Status  int
	Message string
	// EndUser marks a page shown to someone holding a connect link: no link
	// to the team's start page, and a next step they can take.
	EndUser bool
}

// LayoutVM is what every signed-in page embeds.
type LayoutVM struct {
	BaseVM
	AdminEmail string
	Role       string
	CSRFToken  string
	// Active is the nav item to highlight: overview, users, events, deliveries, links, settings.
	Active  string
	Flash   string
	Sandbox bool
	// Scripts are content-hashed script URLs loaded with defer (theme, htmx, live updates).
	Scripts []string
	// Lag, when set, says the projections are behind the event log.
	Lag *LagBannerVM
}

// LagBannerVM says on every page that the projections are behind the log
// (Text) or that events are parked (Parked); Loud past the warning bound.
type LagBannerVM struct {
	Text, Parked, ParkedURL string
	Loud                    bool
}
