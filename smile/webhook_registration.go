package smile

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Smile's API cannot edit a webhook registration: the spec has create, list,
// get and delete, and the update operation was removed in May 2022
// (smile-api.md §2.5, §8 item 23). Changing one (a rotated secret, other event
// types) therefore means creating its replacement and deleting it, in that
// order, so no event goes undelivered in between. Smile sends each event to
// both for a moment; receivers dedupe by event id.

// WebhookOutcome says what RegisterWebhook did.
type WebhookOutcome string

// Outcomes of RegisterWebhook.
const (
	// WebhookCreated: Smile had no registration for the URL; one was created.
	WebhookCreated WebhookOutcome = "created"
	// WebhookReplaced: Smile had one with other settings (another secret,
	// other event types, inactive, or a secret it does not show); it was
	// replaced by one with the wanted settings.
	WebhookReplaced WebhookOutcome = "replaced"
	// WebhookUnchanged: Smile already had exactly the wanted registration.
	WebhookUnchanged WebhookOutcome = "unchanged"
)

// WebhookRegistration is the result of RegisterWebhook.
type WebhookRegistration struct {
	// Webhook is the registration Smile now has for the URL.
	Webhook Webhook
	Outcome WebhookOutcome
	// ReplacedID is the registration that was replaced, when Outcome is
	// WebhookReplaced.
	ReplacedID string
}

// Reasons a registration is stale (StaleWebhook.Reason).
const (
	// StaleDuplicate: another registration for the same URL; Smile delivers
	// every event once per registration.
	StaleDuplicate = "duplicate"
	// StaleOtherURL: a registration of ours (same name, or our receiver's
	// path) at another URL, such as an earlier public address.
	StaleOtherURL = "other-url"
)

// StaleWebhook is a registration left behind: it is ours but not the one
// that delivers to the wanted URL.
type StaleWebhook struct {
	Webhook Webhook
	Reason  string
}

// WebhookSet sorts a tenant's webhook registrations relative to the one
// wanted.
type WebhookSet struct {
	// Current is the registration for the wanted URL that is kept, or nil.
	// When several exist: one already up to date, then one with the wanted
	// name, then the newest.
	Current *Webhook
	// UpToDate reports whether Current has exactly the wanted settings.
	UpToDate bool
	// Stale are ours but left behind; they can be deleted.
	Stale []StaleWebhook
	// Others are registrations of other receivers, left alone.
	Others []Webhook
}

// StaleByID returns the stale registration with this id.
func (s WebhookSet) StaleByID(id string) (StaleWebhook, bool) {
	for _, w := range s.Stale {
		if w.Webhook.ID == id {
			return w, true
		}
	}
	return StaleWebhook{}, false
}

// SortWebhooks sorts hooks relative to want. A registration is for the wanted
// URL when scheme and host match case-insensitively and the paths match up
// to a trailing slash; it is ours at another URL when it carries want's name
// or the wanted URL's path.
func SortWebhooks(hooks []Webhook, want WebhookRequest) WebhookSet {
	var set WebhookSet
	var same []Webhook
	for _, w := range hooks {
		switch {
		case sameWebhookURL(w.URL, want.URL):
			same = append(same, w)
		case w.Name == want.Name || samePath(w.URL, want.URL):
			set.Stale = append(set.Stale, StaleWebhook{Webhook: w, Reason: StaleOtherURL})
		default:
			set.Others = append(set.Others, w)
		}
	}
	if len(same) == 0 {
		return set
	}
	// Keep an up-to-date one if there is one, then one carrying our name,
	// then the newest; the id breaks ties so the choice never flips.
	slices.SortStableFunc(same, func(a, b Webhook) int {
		return cmp.Or(preferTrue(WebhookUpToDate(a, want), WebhookUpToDate(b, want)),
			preferTrue(a.Name == want.Name, b.Name == want.Name),
			b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	keep := same[0]
	set.Current, set.UpToDate = &keep, WebhookUpToDate(keep, want)
	for _, w := range same[1:] {
		set.Stale = append(set.Stale, StaleWebhook{Webhook: w, Reason: StaleDuplicate})
	}
	return set
}

// preferTrue orders true before false.
func preferTrue(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// WebhookUpToDate reports whether w delivers what want asks for: active, the
// same event types (in any order), the same includePayload and the same
// secret. A secret Smile does not show counts as different, since it cannot
// be checked.
func WebhookUpToDate(w Webhook, want WebhookRequest) bool {
	if !w.Active || w.Secret == "" || w.Secret != want.Secret || w.IncludePayload != want.IncludePayload {
		return false
	}
	a, b := slices.Clone(w.EventTypes), slices.Clone(want.EventTypes)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func sameWebhookURL(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		strings.TrimRight(ua.EscapedPath(), "/") == strings.TrimRight(ub.EscapedPath(), "/") && ua.RawQuery == ub.RawQuery
}

func samePath(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	pa, pb := strings.TrimRight(ua.EscapedPath(), "/"), strings.TrimRight(ub.EscapedPath(), "/")
	return pa != "" && pa == pb
}
