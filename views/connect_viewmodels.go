package views

// ConnectPageVM is the end user's connect page: the widget, booted from Boot.
type ConnectPageVM struct {
	BaseVM
	// Label greets the person, e.g. the name an admin gave the link; may be empty.
	Label string
	// Sandbox is "simulator" (no Smile credentials: everything is simulated in
	// this server), "smile" (Smile's own sandbox: test data only) or "" (live).
	Sandbox string
	// PageCSSURL, WidgetScriptURL and ConnectScriptURL are the page's own
	// stylesheet, the Wink Widget script and our callback script.
	PageCSSURL       string
	WidgetScriptURL  string
	ConnectScriptURL string
	// Boot reaches connect.js through templ.JSONScript.
	Boot ConnectBoot
}

// ConnectBoot is everything connect.js needs, as JSON.
type ConnectBoot struct {
	// UserToken is the fresh single-use Link token for SmileLinkModal.
	UserToken  string `json:"userToken"`
	TemplateID string `json:"templateId,omitempty"`
	// Session authenticates the page's callback posts and token refreshes.
	Session   string `json:"session"`
	EventsURL string `json:"eventsURL"`
	TokenURL  string `json:"tokenURL"`
}

// LinksPageVM is the admin page listing connect links with a form to create one.
type LinksPageVM struct {
	LayoutVM
	Links []LinkRowVM
	Form  LinkFormVM
	// Created is the link just created, shown with its URL to copy; may be nil.
	Created *LinkRowVM
	// CanManage shows the create form and revoke buttons (admins, not viewers).
	CanManage bool
	// OlderURL pages to older links; empty on the last page.
	OlderURL string
}

// LinkRowVM is one connect link as the admin pages show it.
type LinkRowVM struct {
	ID          int64
	URL         string
	ExternalRef string
	Label       string
	// State is active, expired or revoked.
	State       string
	SmileUserID string
	// UserHref links to the user's page once the Smile user exists.
	UserHref   string
	CreatedAt  string
	CreatedBy  string
	ExpiresAt  string
	OpenCount  int64
	LastOpened string
	RevokeURL  string
}

// LinkFormVM is the create-link form with what was typed and field errors.
type LinkFormVM struct {
	ExternalRef string
	Label       string
	Expires     string
	Errors      map[string]string
	// ExpiryChoices are the options of the expiry select.
	ExpiryChoices []Choice
}

// Choice is one option of a select.
type Choice struct{ Value, Label string }
