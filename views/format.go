package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// UTCText is how a time reads before the browser localises it, and in its title.
func UTCText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// ISOTime is the machine-readable time for <time datetime>.
func ISOTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ISOTimeOrEmpty is ISOTime, or "" for the zero time.
func ISOTimeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return ISOTime(t)
}

// UIEventCallback is the widget callback the timeline groups when it repeats:
// one per screen the user sees, so it would bury everything else.
const UIEventCallback = "onUIEvent"

// kindRanks break ties between items of different kinds at the same instant,
// as the store orders them (webhook, then claim, then action, newest first).
var kindRanks = map[string]int{KindEvent: 3, KindCallback: 2, KindAction: 1}

// ItemOrder is a timeline item's place as a string that sorts like the
// store's order (time, kind, id), so live.js can put a live item where a
// reload would show it.
func ItemOrder(it TimelineItemVM) string {
	return fmt.Sprintf("%020d.%d.%020d", it.At.UnixNano()+1<<62, kindRanks[it.Kind], it.ID)
}

// DayText names the UTC day of a time, for timeline groups.
func DayText(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006") }

// DayKey is the UTC day of a time as 2006-01-02.
func DayKey(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Relative says how long ago t was, in words: "just now", "5 min ago",
// "3 h ago", "2 days ago", or "in 4 min" for a time ahead of now.
func Relative(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < 45*time.Second:
		return "just now"
	case d < time.Hour:
		s = plural(int64(d/time.Minute+boolInt(d%time.Minute >= 30*time.Second)), "min", "min")
	case d < 48*time.Hour:
		s = plural(int64(d/time.Hour), "h", "h")
	case d < 60*24*time.Hour:
		s = plural(int64(d/(24*time.Hour)), "day", "days")
	default:
		s = plural(int64(d/(30*24*time.Hour)), "month", "months")
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

func boolInt(b bool) time.Duration {
	if b {
		return 1
	}
	return 0
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// Freshness classes data by age: "fresh" within a day, "stale" within a
// month, "old" after that; it drives the colour next to the relative time.
func Freshness(now, t time.Time) string {
	switch d := now.Sub(t); {
	case d < 24*time.Hour:
		return "fresh"
	case d < 31*24*time.Hour:
		return "stale"
	}
	return "old"
}

// errorCodeWords explains Smile's account error codes (smile-api.md §5.3) to a
// person deciding what to do next.
var errorCodeWords = map[string]string{
	"ACCOUNT_DISABLED":       "The provider says this account is disabled. The user has to get it re-enabled with the provider.",
	"ACCOUNT_INACCESSIBLE":   "The provider says this account cannot be accessed right now. The user should check it with the provider.",
	"ACCOUNT_INCOMPLETE":     "The provider marks this account as incomplete. The user has to finish setting it up with the provider.",
	"ACCOUNT_LOCKED":         "The provider has locked this account, often after too many wrong passwords. The user has to unlock it with the provider.",
	"AUTH_REQUIRED":          "No credentials reached the provider. The user should connect again and enter them.",
	"EXPIRED_CREDENTIALS":    "The provider says the password has expired. The user has to renew it with the provider, then connect again.",
	"INVALID_ACCOUNT_TYPE":   "The provider says this kind of account cannot be connected. The user should try a different account.",
	"INVALID_AUTH":           "The sign-in flow failed on Smile's side. Contact Smile support.",
	"INVALID_CREDENTIALS":    "The provider rejected the user name or password. The user should connect again with the right ones.",
	"INVALID_MFA":            "The one-time code the user entered was wrong. They can connect again and enter a fresh code.",
	"MFA_TIMEOUT":            "The user did not enter the one-time code in time. They can connect again.",
	"SERVICE_UNAVAILABLE":    "The provider is down right now. Try again later; nothing is wrong with the user's account.",
	"SYSTEM_ERROR":           "Something failed on Smile's side. Contact Smile support.",
	"TOS_REQUIRED":           "The user has not accepted the provider's terms of service. They must accept them with the provider, then connect again.",
	"UNSUPPORTED_AUTH_TYPE":  "Smile does not support this way of signing in to the provider. Contact Smile support.",
	"UNSUPPORTED_MFA_METHOD": "Smile does not support the provider's second-factor method for this account. Contact Smile support.",
}

// ErrorCodeText explains an account error code in plain words; "" for none.
func ErrorCodeText(code string) string {
	if code == "" {
		return ""
	}
	if w, ok := errorCodeWords[code]; ok {
		return w
	}
	return "Smile sent an error code this dashboard does not know. Read Smile's message below it."
}

// StatusClass picks the badge colour of a status, in Smile's words: account
// connection statuses, monitor statuses, archive states, task results, record
// and verification statuses and result codes, and our delivery outcomes.
func StatusClass(status string) string {
	switch strings.ToUpper(status) {
	case "CONNECTED", "SUCCEEDED", "ANALYZED", "LINKED", "COMPLETED", "ACTIVE", "STORED", "SUCCESS":
		return "ok"
	case "FAILED", "ERROR", "REJECTED", "REVOKED", "USER_ACTION_REQUIRED", "SYSTEM_ERROR", "SERVICE_UNAVAILABLE":
		return "bad"
	case "DISCONNECTED", "DUPLICATE", "STARTED", "PENDING", "AWAITING_MFA", "PROCESSING", "IN_PROGRESS", "INVITED",
		"CUSTOMER_DISABLED", "NO_DATA":
		return "warn"
	}
	return "info"
}

// flagWords explains the flags stored with an event.
var flagWords = map[string]string{
	"created_at_no_zone": "Smile sent createdAt without a time zone. It was read as UTC, the zone Smile documents.",
	"created_at_future": "Smile dated this event more than a day after it arrived. It is stored and counted, but it " +
		"changes no status: otherwise it would outrank every real event until that date.",
}

// FlagText explains a flag stored with an event in plain words.
func FlagText(flag string) string {
	if w, ok := flagWords[flag]; ok {
		return w
	}
	return "A flag this dashboard does not know."
}

// PrettyJSON indents JSON for reading; anything else is returned unchanged.
func PrettyJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(raw), "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// Thousands writes n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// CountText writes a bounded count: "42", or "10,000+" at the bound.
func CountText(n int64, atLeast bool) string {
	if atLeast {
		return Thousands(n) + "+"
	}
	return Thousands(n)
}

// MaskSecret shows enough of a secret to tell secrets apart and no more: the
// first four and last two characters of a long secret, nothing of a short one.
func MaskSecret(s string) string {
	if len(s) < 16 {
		return strings.Repeat("•", 8) + fmt.Sprintf(" (%d characters)", len(s))
	}
	return s[:4] + strings.Repeat("•", 8) + s[len(s)-2:]
}

// Short trims long identifiers for narrow cells, keeping the start and end.
func Short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	half := (n - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(n-1-half):])
}
