package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

// liveBrowser serves a in Chromium (its clock in Asia/Jakarta, UTC+7, so the
// browser's zone and UTC differ) and signs in; it returns the tab and the base URL.
func liveBrowser(t *testing.T, a *testApp) (context.Context, string) {
	t.Helper()
	ctx := browsertest.New(t, 3*time.Minute)
	const email, password = "live@example.test", "a long live password"
	if _, err := a.auth.CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: password, Role: handlers.RoleAdmin}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.ShutdownWithTimeout(time.Second) })
	base := "http://" + ln.Addr().String()
	jakarta := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Jakarta"})
		return err
	})
	if err := chromedp.Do(ctx,
		jakarta,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="overview-page"]`)),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return ctx, base
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// TestLiveEvents_Browser: with /admin/events open, a burst of more events
// than a page holds all appear, directly or through the gap rows' fill links,
// each exactly once and in order.
func TestLiveEvents_Browser(t *testing.T) {
	a := newTestApp(t)
	postEvents(t, a, "et-before", "u-burst", 5, 0)
	ctx, base := liveBrowser(t, a)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/events"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="event-row"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the live stream", `document.documentElement.getAttribute("data-live") === "open"`)

	const burst = 3*models.DefaultPageSize + 11
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				body := pageBody(fmt.Sprintf("et-burst-%04d", i), "ACCOUNT_CREATED", time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC),
					map[string]any{"userId": "u-burst", "accountId": "acc-burst"})
				if got := a.do(t, signed(body)); got.status != http.StatusOK {
					t.Errorf("webhook %d: got %d", i, got.status)
				}
			}
		})
	}
	for i := range burst {
		work <- i
	}
	close(work)
	wg.Wait()

	// Every event shows, or a gap row says what is missing: fill the gaps.
	const want = burst + 5
	filled := 0
	waitFor(t, ctx, "the burst or a gap row", fmt.Sprintf(
		`document.querySelectorAll("tr[data-seq]").length === %d || !!document.querySelector("[data-testid=event-gap]")`, want))
	browsertest.Screenshot(t, ctx, "admin-events-live-gap")
	for eval[bool](t, ctx, `!!document.querySelector("[data-testid=event-gap-fill]")`) {
		if filled++; filled > 10 {
			t.Fatal("the gaps never close")
		}
		n := eval[string](t, ctx, `document.querySelector("[data-testid=event-gap-count]").textContent`)
		rows := eval[int](t, ctx, `document.querySelectorAll("tr[data-seq]").length`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="event-gap-fill"]`), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		var missing int
		fmt.Sscanf(n, "%d events not shown", &missing)
		waitFor(t, ctx, "the gap to fill", fmt.Sprintf(`document.querySelectorAll("tr[data-seq]").length >= %d`, rows+min(missing, models.DefaultPageSize)))
	}
	waitFor(t, ctx, "every event", fmt.Sprintf(`document.querySelectorAll("tr[data-seq]").length === %d`, want))
	seqs := eval[[]int64](t, ctx, `Array.from(document.querySelectorAll("tr[data-seq]"), r => Number(r.getAttribute("data-seq")))`)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] >= seqs[i-1] {
			t.Fatalf("rows out of order or repeated at %d: #%d after #%d", i, seqs[i], seqs[i-1])
		}
	}
	t.Logf("%d events shown after %d gap fills", len(seqs), filled)
}

// TestLiveTimeline_Browser: the user timeline shows days in the browser's
// zone (switchable to UTC and remembered), puts a live webhook under its day
// in time order, folds runs of onUIEvent callbacks into one row (a live one
// joins it), and copies ids. The deliveries page offers a refresh when a
// refused webhook arrives; the overview's counts update by themselves.
func TestLiveTimeline_Browser(t *testing.T) {
	a := newTestApp(t)
	ctx0 := context.Background()
	day := func(d, h, m int) time.Time { return time.Date(2026, 2, d, h, m, 0, 0, time.UTC) }
	post := func(id string, at time.Time) {
		t.Helper()
		body := pageBody(id, "ACCOUNT_CREATED", at, map[string]any{"userId": "u-live", "accountId": "acc-live"})
		if got := a.do(t, signed(body)); got.status != http.StatusOK {
			t.Fatalf("webhook %s: got %d", id, got.status)
		}
	}
	post("et-feb1", day(1, 10, 0)) // 17:00 on 1 Feb in Jakarta
	post("et-feb3", day(3, 10, 0))
	u, err := a.store.UserByID(ctx0, "u-live")
	if err != nil {
		t.Fatal(err)
	}
	uiEvent := func(at time.Time) {
		args, _ := json.Marshal(map[string]any{"name": "SCREEN_VIEWED"})
		if err := a.store.CreateCallback(ctx0, &models.Callback{ReceivedAt: at, UserKey: &u.UserKey, Name: "onUIEvent", Args: args}); err != nil {
			t.Fatal(err)
		}
	}
	for m := range 3 {
		uiEvent(day(3, 9, m))
	}
	ctx, base := liveBrowser(t, a)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/users/u-live"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="timeline-item"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the live stream", `document.documentElement.getAttribute("data-live") === "open"`)
	if got := eval[string](t, ctx, `document.querySelector("[data-testid=ui-group]").getAttribute("data-count")`); got != "3" {
		t.Errorf("got a group of %s UI events, want 3", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("[data-tz-toggle]").textContent`); got != "Times: Asia/Jakarta" {
		t.Errorf("got zone button %q", got)
	}

	// 20:00 UTC on 1 Feb is 03:00 on 2 Feb in Jakarta: a day between the others.
	post("et-live", day(1, 20, 0))
	uiEvent(day(3, 9, 30))
	waitFor(t, ctx, "the live items", `document.querySelectorAll("li[data-item]").length === 7`)
	days := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("[data-testid=timeline-day]"), s => s.getAttribute("data-day"))`)
	if got, want := strings.Join(days, " "), "2026-02-03 2026-02-02 2026-02-01"; got != want {
		t.Errorf("got days %s, want %s", got, want)
	}
	liveDay := eval[string](t, ctx, `document.querySelector("[data-testid=timeline-day][data-day='2026-02-02']").textContent`)
	if !strings.Contains(liveDay, "ACCOUNT_CREATED") || !strings.Contains(liveDay, "(Asia/Jakarta)") {
		t.Errorf("got 2 Feb %q, want the live webhook under a Jakarta day heading", liveDay)
	}
	orders := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("li[data-item]"), li => li.getAttribute("data-order"))`)
	for i := 1; i < len(orders); i++ {
		if orders[i] >= orders[i-1] {
			t.Errorf("timeline out of order at %d", i)
		}
	}
	if got := eval[string](t, ctx, `document.querySelector("[data-testid=ui-group]").getAttribute("data-count")`); got != "4" {
		t.Errorf("got a group of %s UI events after a live one, want 4", got)
	}
	browsertest.Screenshot(t, ctx, "admin-user-timeline-zone")

	// UTC, remembered across a reload: 20:00 on 1 Feb is on 1 Feb again.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-tz-toggle]`)), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="timeline-item"]`))); err != nil {
		t.Fatal(err)
	}
	days = eval[[]string](t, ctx, `Array.from(document.querySelectorAll("[data-testid=timeline-day]"), s => s.getAttribute("data-day"))`)
	if got, want := strings.Join(days, " "), "2026-02-03 2026-02-01"; got != want {
		t.Errorf("in UTC got days %s, want %s", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector("time[datetime='2026-02-01T20:00:00Z']").textContent`); got != "2026-02-01 20:00:00" {
		t.Errorf("in UTC got %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("time[datetime='2026-02-01T20:00:00Z']").title`); got != "2026-02-01 20:00:00 UTC" {
		t.Errorf("got hover %q, want the full timestamp", got)
	}

	// One by one: no group.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/users/u-live?ui=each"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="timeline-item"]`))); err != nil {
		t.Fatal(err)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("[data-testid=ui-group]").length`); n != 0 {
		t.Errorf("got %d groups with ui=each, want none", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-testid="user-page"] h1 [data-testid="copy"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the copy to confirm", `document.querySelector("[data-testid=user-page] h1 [data-testid=copy]").textContent === "Copied"`)

	// Deliveries: a refused webhook offers a refresh that shows it.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/deliveries"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="deliveries-page"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the live stream", `document.documentElement.getAttribute("data-live") === "open"`)
	if got := a.do(t, webhookRequest(smiletest.Event("USER_CREATED"), strings.Repeat("ab", 64))); got.status != http.StatusUnauthorized {
		t.Fatalf("bad signature: got %d", got.status)
	}
	waitFor(t, ctx, "the refresh notice", `!document.querySelector("[data-live-notice]").hidden`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-live-apply]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the refused webhook", `document.querySelectorAll("[data-testid=delivery-row]").length === 1`)

	// Overview: the counts follow by themselves.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="stat-events"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the live stream", `document.documentElement.getAttribute("data-live") === "open"`)
	before := eval[string](t, ctx, `document.querySelector("[data-testid=stat-events] strong").textContent`)
	post("et-overview", day(4, 10, 0))
	waitFor(t, ctx, "the overview to count it", fmt.Sprintf(`document.querySelector("[data-testid=stat-events] strong").textContent !== %q`, before))
}
