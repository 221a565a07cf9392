package views

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRelative(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"zero", time.Time{}, "never"},
		{"seconds", now.Add(-10 * time.Second), "just now"},
		{"one minute", now.Add(-70 * time.Second), "1 min ago"},
		{"minutes", now.Add(-25 * time.Minute), "25 min ago"},
		{"hours", now.Add(-5 * time.Hour), "5 h ago"},
		{"days", now.Add(-72 * time.Hour), "3 days ago"},
		{"months", now.AddDate(0, -4, 0), "4 months ago"},
		{"future", now.Add(10 * time.Minute), "in 10 min"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Relative(now, tc.t); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorCodeText(t *testing.T) {
	// Every code of smile-api.md §5.3 has its own explanation.
	codes := []string{"ACCOUNT_DISABLED", "ACCOUNT_INACCESSIBLE", "ACCOUNT_INCOMPLETE", "ACCOUNT_LOCKED", "AUTH_REQUIRED",
		"EXPIRED_CREDENTIALS", "INVALID_ACCOUNT_TYPE", "INVALID_AUTH", "INVALID_CREDENTIALS", "INVALID_MFA", "MFA_TIMEOUT",
		"SERVICE_UNAVAILABLE", "SYSTEM_ERROR", "TOS_REQUIRED", "UNSUPPORTED_AUTH_TYPE", "UNSUPPORTED_MFA_METHOD"}
	seen := map[string]bool{}
	for _, c := range codes {
		got := ErrorCodeText(c)
		if got == "" || seen[got] || strings.Contains(got, "does not know") {
			t.Errorf("%s: got %q, want its own explanation", c, got)
		}
		seen[got] = true
	}
	if ErrorCodeText("") != "" {
		t.Error("got an explanation for no code")
	}
	if !strings.Contains(ErrorCodeText("NEW_CODE"), "does not know") {
		t.Error("an unknown code should say so")
	}
}

func TestFormatHelpers(t *testing.T) {
	at := time.Date(2026, 3, 2, 4, 15, 9, 0, time.FixedZone("WIB", 7*3600))
	for _, tc := range []struct{ name, got, want string }{
		{"utc text", UTCText(at), "2026-03-01 21:15:09 UTC"},
		{"iso", ISOTime(at), "2026-03-01T21:15:09Z"},
		{"day key", DayKey(at), "2026-03-01"},
		{"thousands", Thousands(1234567), "1,234,567"},
		{"thousands small", Thousands(999), "999"},
		{"thousands negative", Thousands(-1000), "-1,000"},
		{"bounded count", CountText(10000, true), "10,000+"},
		{"mask long", MaskSecret("whsec-demo-only-0001"), "whse••••••••01"},
		{"mask short", MaskSecret("short"), "•••••••• (5 characters)"},
		{"pretty json", PrettyJSON([]byte(`{"a":[1,2]}`)), "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{"pretty not json", PrettyJSON([]byte("<b>")), "<b>"},
		{"short", Short("abcdefghijklmnopqrstuvwxyz", 11), "abcde…vwxyz"},
		{"status ok", StatusClass("CONNECTED"), "ok"},
		{"status bad", StatusClass("FAILED"), "bad"},
		{"freshness", Freshness(at.Add(2*time.Hour), at), "fresh"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestGroupByDay(t *testing.T) {
	d := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	items := []TimelineItemVM{{At: d(3, 10)}, {At: d(3, 1)}, {At: d(2, 23)}, {At: d(1, 5)}}
	days := GroupByDay(items)
	if len(days) != 3 || len(days[0].Items) != 2 || days[1].Key != "2026-03-02" || days[2].Label != "Sun 1 Mar 2026" {
		t.Errorf("got %+v", days)
	}
}

// TestStatusClass_SmileVocabulary covers every status word Smile uses for the
// entities the dashboard shows.
func TestStatusClass_SmileVocabulary(t *testing.T) {
	for want, statuses := range map[string][]string{
		"ok":   {"CONNECTED", "ACTIVE", "ANALYZED", "SUCCEEDED", "LINKED", "COMPLETED", "SUCCESS"},
		"bad":  {"ERROR", "FAILED", "REVOKED", "USER_ACTION_REQUIRED", "SYSTEM_ERROR", "SERVICE_UNAVAILABLE"},
		"warn": {"PENDING", "AWAITING_MFA", "DISCONNECTED", "STARTED", "PROCESSING", "IN_PROGRESS", "INVITED", "CUSTOMER_DISABLED", "NO_DATA"},
		"info": {"UNSUPPORTED", "SOMETHING_NEW"},
	} {
		for _, s := range statuses {
			if got := StatusClass(s); got != want {
				t.Errorf("%s: got %q, want %q", s, got, want)
			}
		}
	}
}

func TestFlagText(t *testing.T) {
	for _, flag := range []string{"created_at_no_zone", "created_at_future"} {
		if w := FlagText(flag); w == "" || strings.Contains(w, "does not know") {
			t.Errorf("%s: got %q, want an explanation", flag, w)
		}
	}
	if w := FlagText("other"); !strings.Contains(w, "does not know") {
		t.Errorf("got %q for an unknown flag", w)
	}
}

func TestRawView_KeepsBytesAndBoundsSize(t *testing.T) {
	compact := []byte(`{"id":"et-1","data":{"a":1}}`)
	vm := RawView(compact, int64(len(compact)), "/x")
	if vm.Exact != string(compact) || vm.Truncated || !strings.Contains(vm.Pretty, "\n  \"data\"") {
		t.Errorf("got exact %q, pretty %q, truncated %v; want the bytes unchanged and an indented view", vm.Exact, vm.Pretty, vm.Truncated)
	}
	big := []byte(`{"s":"` + strings.Repeat("é", RawPreviewBytes) + `"}`)
	vm = RawView(big[:RawPreviewBytes+1], int64(len(big)), "/x")
	if !vm.Truncated || len(vm.Exact) > RawPreviewBytes || vm.Pretty != "" || vm.Bytes != int64(len(big)) {
		t.Errorf("got %d bytes shown of %d, truncated %v, pretty %d bytes; want at most %d, cut, no pretty view",
			len(vm.Exact), vm.Bytes, vm.Truncated, len(vm.Pretty), RawPreviewBytes)
	}
	if !utf8.ValidString(vm.Exact) || strings.ContainsRune(vm.Exact, '\uFFFD') {
		t.Error("the cut split a character")
	}
}

func TestShort_KeepsStartAndEnd(t *testing.T) {
	if got, want := Short("usr-1234567890abcdef", 13), "usr-12…abcdef"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestItemOrder_SortsLikeTheStore(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	older := ItemOrder(TimelineItemVM{Kind: KindEvent, ID: 99, At: at.Add(-time.Nanosecond)})
	action := ItemOrder(TimelineItemVM{Kind: KindAction, ID: 5, At: at})
	event := ItemOrder(TimelineItemVM{Kind: KindEvent, ID: 1, At: at})
	if !(older < action && action < event) {
		t.Errorf("got %q, %q, %q; want ascending", older, action, event)
	}
}
