package handlers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models/auth"
)

// TestOverview_Browser draws the overview of a seeded day in headless
// Chromium, checks the chart is drawn and its segments are links, and saves
// screenshots in the light and the dark theme (docs/overview.png comes from
// the light one).
func TestOverview_Browser(t *testing.T) {
	ctx := browsertest.New(t, 2*time.Minute)
	a := newTestApp(t, withSettings(nil))
	now := time.Now().UTC()
	seedOverviewAt(t, a, now.Add(-5*time.Hour).Truncate(time.Hour))
	// A day of traffic across the families, so the chart has a shape.
	types := []string{"INCOMES_ADDED", "EMPLOYMENTS_ADDED", "ACCOUNT_SYNC_TASK_FINISHED", "TASK_STARTED", "ARCHIVE_STARTED",
		"IDENTITY_ADDED", "USER_CREATED", "INVITE_INVITED", "RECORD_CREATED", "TRANSACTIONS_ADDED"}
	for i := range 120 {
		at := now.Add(-time.Duration(i*i%1400) * time.Minute)
		typ := types[(i*7)%len(types)]
		data := map[string]any{"userId": fmt.Sprintf("user-b%02d", i%25), "accountId": fmt.Sprintf("acc-b%02d", i%25), "count": 3}
		if got := a.do(t, signed(pageBody(fmt.Sprintf("et-b-%03d", i), typ, at, data))); got.status != http.StatusOK {
			t.Fatalf("webhook: got %d %s", got.status, got.body)
		}
	}
	const email, password = "overview@example.test", "a long overview password"
	if _, err := a.auth.CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: password, Role: handlers.RoleViewer}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.ShutdownWithTimeout(time.Second) })
	base := "http://" + ln.Addr().String()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	var segments, links int
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="overview-page"]`)),
		chromedp.Navigate(base+"/admin?range=24h"),
		chromedp.WaitVisible(css(`[data-testid="volume-chart"] svg`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if segments, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="chart-segment"]').length`)); err != nil {
		t.Fatal(err)
	}
	if links, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="volume-chart"] svg a[href^="/admin/events?family="]').length`)); err != nil {
		t.Fatal(err)
	}
	if segments == 0 || links != segments {
		t.Fatalf("got %d chart segments and %d segment links, want some, each a link", segments, links)
	}
	browsertest.Screenshot(t, ctx, "admin-overview-insight")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.documentElement.setAttribute("data-theme", "dark")`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "admin-overview-insight-dark")
}
