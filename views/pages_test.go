package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

var viewNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func renderDoc(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var b bytes.Buffer
	ctx := WithSignedIn(context.Background(), SignedIn{Email: "a@example.test", Role: "admin", CSRFToken: "tok"})
	if err := c.Render(ctx, &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, b.String()
}

func count(doc *goquery.Document, testID string) int {
	return doc.Find(`[data-testid="` + testID + `"]`).Length()
}

func TestUsersPage_RowsAndHostileValues(t *testing.T) {
	vm := UsersPageVM{LayoutVM: LayoutVM{BaseVM: BaseVM{Title: "Users"}}, Statuses: []string{"ERROR"}, Results: UsersResultsVM{
		Total: "2", Rows: UserRowsVM{Now: viewNow, NextURL: "/admin/users?after=1.2.3", Rows: []UserRowVM{
			{ID: "u-1", URL: "/admin/users/u-1", ExternalRefs: []string{"crm-42"}, LastSeen: viewNow.Add(-time.Hour),
				Accounts: []AccountBadgeVM{{Provider: `<img src=x onerror=alert(1)>`, Status: "ERROR", Login: `<script>x()</script>`}}},
			{ID: "u-2", URL: "/admin/users/u-2"},
		}},
	}}
	doc, html := renderDoc(t, UsersPage(vm))
	if got := count(doc, "user-row"); got != 2 {
		t.Errorf("got %d rows, want 2", got)
	}
	if got := doc.Find(`[data-testid="account-badge"]`).Text(); !strings.Contains(got, "<img src=x onerror=alert(1)>") {
		t.Errorf("got badge text %q, want the provider id as text", got)
	}
	if doc.Find("script:not([src])").Length() != 0 || strings.Contains(html, "<img src=x") {
		t.Error("a hostile value became markup")
	}
	if count(doc, "load-more") != 1 || count(doc, "external-ref") != 1 || count(doc, "users-filter") != 1 {
		t.Error("missing load more, external reference or filter")
	}
	if got := doc.Find(`[data-testid="user-row"] time`).AttrOr("title", ""); got == "" {
		t.Error("times need their exact value on hover")
	}
}

func TestUsersResults_EmptyStates(t *testing.T) {
	doc, _ := renderDoc(t, UsersResults(UsersResultsVM{Total: "0"}))
	if !strings.Contains(doc.Find(`[data-testid="users-empty"]`).Text(), "connect link") {
		t.Error("the empty list should say how users arrive")
	}
	doc, _ = renderDoc(t, UsersResults(UsersResultsVM{Total: "0", Filtered: true}))
	if !strings.Contains(doc.Find(`[data-testid="users-empty"]`).Text(), "clear the filters") {
		t.Error("an empty search should suggest what to try")
	}
}

func TestUserPage_TimelineMarksClaims(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	items := []TimelineItemVM{
		{Kind: KindCallback, ID: 1, At: day(3, 9), Label: "onAccountError", Raw: RawView([]byte(`{"errorCode":"<b>x</b>"}`), 24, "")},
		{Kind: KindEvent, ID: 7, At: day(3, 8), Label: "ACCOUNT_FAILED", URL: "/admin/events/7", Raw: RawView([]byte("{}"), 2, "")},
		{Kind: KindAction, ID: 2, At: day(2, 8), Label: "link_created", Actor: "a@example.test", Raw: RawView([]byte("{}"), 2, "")},
	}
	vm := UserPageVM{LayoutVM: LayoutVM{BaseVM: BaseVM{Title: "User"}}, Now: viewNow, ID: "u-1", StreamURL: "/admin/stream?user=u-1",
		Accounts: []AccountVM{{ID: "a-1", Provider: "p", Status: "ERROR", ErrorCode: "MFA_TIMEOUT", ErrorWords: ErrorCodeText("MFA_TIMEOUT"),
			ErrorMessage: "<i>late</i>", Data: []DataVM{{Datapoint: "INCOMES", Added: 3, LastUpdated: viewNow, FreshnessClass: "fresh"}}}},
		Timeline: TimelineVM{BaseURL: "/admin/users/u-1", Days: GroupByDay(items), NextURL: "/admin/users/u-1?before=1.2.3"},
	}
	doc, html := renderDoc(t, UserPage(vm))
	if got := count(doc, "timeline-day"); got != 2 {
		t.Errorf("got %d days, want 2", got)
	}
	if got := count(doc, "timeline-item"); got != 3 {
		t.Errorf("got %d items, want 3", got)
	}
	claim := doc.Find(`[data-testid="timeline-item"][data-kind="callback"]`)
	if claim.Find(`[data-testid="claim"]`).Length() != 1 || claim.Find(`details [data-testid="raw-exact"]`).Length() != 1 {
		t.Error("a callback must be marked as a browser claim and expand to its JSON")
	}
	if strings.Contains(html, "<b>x</b>") || strings.Contains(html, "<i>late</i>") {
		t.Error("raw values became markup")
	}
	if !strings.Contains(doc.Find(`[data-testid="account-error"]`).Text(), "one-time code") {
		t.Error("the error code is not explained")
	}
	if count(doc, "data-row") != 1 || doc.Find(`[data-testid="user-page"]`).AttrOr("data-stream", "") != "/admin/stream?user=u-1" {
		t.Error("missing data rows or the live stream address")
	}
}

func TestEventPage_ChangesAndReproject(t *testing.T) {
	vm := EventPageVM{LayoutVM: LayoutVM{BaseVM: BaseVM{Title: "Event"}}, Seq: 7, Type: "ACCOUNT_FAILED", Body: RawView([]byte("{}"), 2, "/admin/events/7/body"),
		SecretLabel: "secret 1", Changes: []FieldChangeVM{{Table: "accounts", Key: "a-1", Field: "status", Before: "PENDING", After: "ERROR"}},
		Attempts: []DeliveryVM{{Outcome: "duplicate", Reason: "duplicate"}}, ReprojectURL: "/admin/events/7/reproject"}
	doc, _ := renderDoc(t, EventPage(vm))
	if count(doc, "change-row") != 1 || count(doc, "delivery-row") != 1 {
		t.Error("missing changes or attempts")
	}
	if got := doc.Find(`[data-testid="reproject-form"] input[name="_csrf"]`).AttrOr("value", ""); got != "tok" {
		t.Errorf("got csrf %q in the re-project form, want tok", got)
	}
	vm.ReprojectURL = ""
	if doc, _ := renderDoc(t, EventPage(vm)); count(doc, "reproject-form") != 0 {
		t.Error("viewers must not see the re-project form")
	}
}

func TestListPages_EmptyStates(t *testing.T) {
	for name, c := range map[string]templ.Component{
		"events-empty":     EventsPage(EventsPageVM{}),
		"deliveries-empty": DeliveriesPage(DeliveriesPageVM{}),
		"overview-empty":   OverviewPage(OverviewPageVM{Users: LinkedCountVM{N: "0", Label: "users", URL: "/admin/users"}}),
	} {
		doc, _ := renderDoc(t, c)
		if count(doc, name) != 1 {
			t.Errorf("no %s", name)
		}
	}
	doc, html := renderDoc(t, SettingsPage(SettingsPageVM{WebhookURL: "https://x/webhooks/smile", RegisterNote: "set credentials",
		Secrets: []SecretVM{{Masked: MaskSecret("whsec-demo-only-0001"), Current: true, VerifiedLatest: true}}}))
	if count(doc, "verified-latest") != 1 || count(doc, "register-note") != 1 || strings.Contains(html, "whsec-demo-only-0001") {
		t.Error("settings must mask secrets and say which verified the latest event")
	}
}
