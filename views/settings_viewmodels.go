package views

// SettingsPageVM is /admin/settings.
type SettingsPageVM struct {
	LayoutVM
	WebhookURL string
	Secrets    []SecretVM
	// LatestVerified says which secret verified the newest event; "" before any.
	LatestVerified string
	AllowedIPs     string
	Mode           string
	// SandboxSecret is the sandbox's webhook secret, shown (behind a reveal
	// button) only in sandbox mode, where it signs simulated webhooks and is
	// what `smiledash simulate --secret` needs.
	SandboxSecret string
	// RegisterURL is where the register form posts; "" hides it.
	RegisterURL string
	// RegisterNote explains why registering is not offered, when it is not.
	RegisterNote string
	// Registrations is what Smile has registered; nil when not asked.
	Registrations *RegistrationsVM
	// ReprojectURL is where "Re-project all" posts.
	ReprojectURL string
	Notice       string
	Problem      string
}

// SecretVM is one configured webhook secret, masked.
type SecretVM struct {
	Index          int
	Masked         string
	Current        bool
	VerifiedLatest bool
}

// RegistrationsVM is Smile's webhook registrations as they concern us.
type RegistrationsVM struct {
	// Problem says why Smile could not be asked; the rest is then empty.
	Problem string
	// Current is the registration delivering to our URL, or nil.
	Current *WebhookVM
	// UpToDate reports whether Current has the current secret and settings.
	UpToDate bool
	// Stale are registrations of ours left behind, each deletable.
	Stale []WebhookVM
	// Others counts other receivers' registrations, left alone.
	Others int
}

// WebhookVM is one registration at Smile. The secret is never shown.
type WebhookVM struct {
	ID         string
	Name       string
	URL        string
	EventTypes string
	Active     bool
	Created    string
	// Why says why a stale registration is listed.
	Why string
	// DeleteURL is where its delete form posts; "" for the current one.
	DeleteURL string
}

// ConfirmPageVM asks an admin to confirm a change before it is made.
type ConfirmPageVM struct {
	LayoutVM
	Question string
	// Facts describe what the change touches, one line each.
	Facts []string
	// ActionURL receives the confirming POST (with confirm=yes).
	ActionURL string
	Button    string
	CancelURL string
}
