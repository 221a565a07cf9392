package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
)

// overviewNow is the clock of the overview tests: the 24 h range ends at
// 13:00 that day.
var overviewNow = time.Date(2026, 2, 1, 12, 30, 0, 0, time.UTC)

type fakeLag struct {
	n      int64
	behind time.Duration
	parked int64
}

func (f fakeLag) ParkedEvents(context.Context, int) ([]models.ParkedEvent, int64, error) {
	var out []models.ParkedEvent
	for i := range f.parked {
		out = append(out, models.ParkedEvent{Seq: i + 1, EventID: fmt.Sprintf("et-parked-%d", i), Error: "stored event no longer parses", ParkedAt: overviewNow})
	}
	return out, f.parked, nil
}

// ProjectorLag is behind as of the overview's fixed clock.
func (f fakeLag) ProjectorLag(context.Context) (models.ProjectorLag, error) {
	return models.ProjectorLag{Events: f.n, Oldest: overviewNow.Add(-f.behind), Parked: f.parked}, nil
}

// seedOverviewApp stores, through the webhook route, two accounts created at
// provA (one connects, one fails with INVALID_CREDENTIALS), one at provB, and a
// refused delivery; and a connect link opened twice whose widget called back.
func seedOverviewApp(t *testing.T, a *testApp) {
	t.Helper()
	seedOverviewAt(t, a, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
}

// seedOverviewAt is seedOverviewApp with the story starting at day.
func seedOverviewAt(t *testing.T, a *testApp, day time.Time) {
	t.Helper()
	for _, ev := range []struct {
		id, typ, account string
		at               time.Duration
		extra            map[string]any
	}{
		{"et-o1", "ACCOUNT_CREATED", "acc-1", time.Hour, map[string]any{"providers": []string{"provA"}}},
		{"et-o2", "ACCOUNT_CREATED", "acc-2", time.Hour, map[string]any{"providers": []string{"provA"}}},
		{"et-o3", "ACCOUNT_CREATED", "acc-3", time.Hour, map[string]any{"providers": []string{"provB"}}},
		{"et-o4", "ACCOUNT_CONNECTED", "acc-1", 2 * time.Hour, nil},
		{"et-o5", "ACCOUNT_FAILED", "acc-2", 3 * time.Hour, map[string]any{"errorCode": "INVALID_CREDENTIALS"}},
	} {
		data := map[string]any{"userId": "user-ov", "accountId": ev.account}
		for k, v := range ev.extra {
			data[k] = v
		}
		if got := a.do(t, signed(pageBody(ev.id, ev.typ, day.Add(ev.at), data))); got.status != http.StatusOK {
			t.Fatalf("webhook %s: got %d %s", ev.id, got.status, got.body)
		}
	}
	if got := a.do(t, webhookRequest(pageBody("et-bad-"+day.Format("0102"), "USER_CREATED", day, nil), strings.Repeat("ab", 64))); got.status != http.StatusUnauthorized {
		t.Fatalf("bad signature: got %d", got.status)
	}
	ctx := context.Background()
	l, err := a.store.CreateLink(ctx, models.NewLink{ExternalRef: "ref-ov", CreatedBy: "test", Now: day})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := a.store.MarkLinkOpened(ctx, l, day.Add(30*time.Minute), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.store.CreateCallback(ctx, &models.Callback{ReceivedAt: day.Add(31 * time.Minute), LinkID: &l.ID, Name: "onUIEvent"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // rejections are recorded after the response
	for a.store.DB().Where("reason = ?", models.ReasonSignatureMismatch).Take(&models.Delivery{}).Error != nil {
		if time.Now().After(deadline) {
			t.Fatal("the bad-signature attempt was never recorded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func withOverviewClock(d *handlers.Deps) { d.Now = func() time.Time { return overviewNow } }

func TestOverview_AnswersForTheRange(t *testing.T) {
	a := newTestApp(t, withOverviewClock)
	seedOverviewApp(t, a)
	s := a.signIn(t, handlers.RoleViewer)
	got := s.get(t, "/admin?range=24h")
	if got.status != http.StatusOK {
		t.Fatalf("got %d: %.300s", got.status, got.body)
	}
	body := html.UnescapeString(got.body)
	inRange := "from=2026-01-31T13%3A00&to=2026-02-01T13%3A00"
	for _, want := range []string{
		// totals, each linked to its list
		`href="/admin/users?status=CONNECTED"`, `href="/admin/users?status=ERROR"`, `href="/admin/events?` + inRange + `"`,
		// the chart: an accessible SVG whose bars link to the family's events in their hour
		`role="img"`, `<title id="volume-chart-title">`, `data-testid="chart-segment"`, "account: 3 events, Sun 1 Feb 01:00–02:00 UTC",
		`href="/admin/events?family=account&from=2026-02-01T01%3A00&to=2026-02-01T02%3A00"`, `data-testid="volume-chart-table"`,
		// the funnel: 1 link opened, 1 widget, 3 created, 1 connected (33%), 1 error
		`data-testid="funnel-step"`, "33% of created", "100% of links", "ACCOUNT_CREATED webhooks.",
		`href="/admin/events?from=2026-01-31T13%3A00&to=2026-02-01T13%3A00&type=ACCOUNT_CONNECTED"`,
		`href="/admin/users?provider=provA&status=ERROR"`,
		// top error codes in plain words
		"INVALID_CREDENTIALS", "The provider rejected the user name or password.",
		// webhook health: refusals by reason, the secret that verified
		`href="/admin/deliveries?outcome=rejected&reason=signature_mismatch"`, "by the current secret",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	if strings.Contains(body, `data-testid="health-lag"`) {
		t.Error("overview shows the projector lag with nothing wired behind it")
	}
	for _, step := range []string{"<strong>1</strong></a> connect links opened", "<strong>1</strong></a> widgets opened", "<strong>3</strong></a> accounts created"} {
		if !strings.Contains(strings.Join(strings.Fields(body), " "), step) {
			t.Errorf("funnel lacks %q", step)
		}
	}
	if got := s.get(t, "/admin?range=1y"); got.status != http.StatusBadRequest {
		t.Errorf("range=1y: got %d, want 400", got.status)
	}
	// The default range (7 d) includes the same day.
	if got := s.get(t, "/admin"); !strings.Contains(got.body, `aria-current="true" data-testid="range-choice">7 d`) || !strings.Contains(got.body, "33% of created") {
		t.Error("the default range must be 7 d and include the day")
	}
}

func TestOverview_PanelsOfWiredDependencies(t *testing.T) {
	a := newTestApp(t, withOverviewClock, func(d *handlers.Deps) {
		d.Pages.ProjectorLag = fakeLag{n: 42, behind: 3 * time.Second, parked: 2}
	})
	body := a.signIn(t, handlers.RoleViewer).get(t, "/admin").body
	for _, want := range []string{`data-testid="health-lag"`, "42 events, 3s behind",
		`data-testid="parked-event"`, "et-parked-1", "stored event no longer parses", `data-testid="lag-banner"`} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
}

func TestAPI_FunnelAndOverview(t *testing.T) {
	a := newTestApp(t, withOverviewClock)
	seedOverviewApp(t, a)
	token, _ := createTestToken(t, a, handlers.RoleViewer)
	get := func(path string) response {
		req, _ := http.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return a.do(t, req)
	}
	got := get("/api/v1/funnel?range=24h")
	if got.status != http.StatusOK {
		t.Fatalf("funnel: got %d %s", got.status, got.body)
	}
	var f struct {
		From, To  time.Time
		Overall   map[string]int64
		Providers []map[string]any
	}
	if err := json.Unmarshal([]byte(got.body), &f); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"linksOpened": 1, "widgetsOpened": 1, "accountsCreated": 3, "connected": 1, "failed": 1}
	for k, n := range want {
		if f.Overall[k] != n {
			t.Errorf("overall.%s = %d, want %d (%s)", k, f.Overall[k], n, got.body)
		}
	}
	if len(f.Providers) != 2 || f.Providers[0]["provider"] != "provA" || f.Providers[0]["accountsCreated"] != 2.0 ||
		f.Providers[0]["linksOpened"] != nil || !f.To.Equal(time.Date(2026, 2, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("got %s", got.body)
	}
	got = get("/api/v1/overview?range=24h")
	var o struct {
		Users            struct{ Count int64 }
		AccountsByStatus map[string]struct{ Count int64 }
		Events           int64
		EventsByFamily   map[string]int64
	}
	if err := json.Unmarshal([]byte(got.body), &o); err != nil || got.status != http.StatusOK {
		t.Fatalf("overview: got %d %s", got.status, got.body)
	}
	if o.Users.Count != 1 || o.AccountsByStatus["CONNECTED"].Count != 1 || o.Events != 5 || o.EventsByFamily["account"] != 5 {
		t.Errorf("got %s", got.body)
	}
	if got := get("/api/v1/funnel?range=2d"); got.status != http.StatusBadRequest {
		t.Errorf("range=2d: got %d, want 400", got.status)
	}
}

func TestEvents_FamilyFilterPage(t *testing.T) {
	a := newTestApp(t, withOverviewClock)
	seedOverviewApp(t, a)
	s := a.signIn(t, handlers.RoleViewer)
	if body := s.get(t, "/admin/events?family=account").body; strings.Count(body, `data-testid="event-row"`) != 5 {
		t.Errorf("family=account: got %d rows, want 5", strings.Count(body, `data-testid="event-row"`))
	}
	if body := s.get(t, "/admin/events?family=data").body; strings.Contains(body, `data-testid="event-row"`) {
		t.Error("family=data must list no account event")
	}
	if got := s.get(t, "/admin/events?family=nope"); got.status != http.StatusBadRequest {
		t.Errorf("family=nope: got %d, want 400", got.status)
	}
}
