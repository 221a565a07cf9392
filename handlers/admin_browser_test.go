package handlers_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

// TestAdminPages_Browser signs in through the real form in headless Chromium,
// finds a user, opens their timeline, sees a webhook for them appear live, and
// saves screenshots of the main pages.
func TestAdminPages_Browser(t *testing.T) {
	ctx := browsertest.New(t, 2*time.Minute)
	a := newTestApp(t, withSettings(nil))
	seedPages(t, a, 30)
	const email, password = "browser@example.test", "a long browser password"
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

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step("sign in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="overview-page"]`)),
	)
	browsertest.Screenshot(t, ctx, "admin-overview")

	step("find the user",
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(css(`[data-testid="user-row"]`)),
		chromedp.SendKeys(css(`#users-q`), smiletest.FixtureUserID[:14]),
		chromedp.WaitNotPresent(css(`a[data-testid="user-link"][href$="user-000"]`)),
		chromedp.WaitVisible(css(`a[data-testid="user-link"][href$="`+smiletest.FixtureUserID+`"]`)),
	)
	browsertest.Screenshot(t, ctx, "admin-users-search")

	step("open the timeline",
		chromedp.Click(css(`a[data-testid="user-link"][href$="`+smiletest.FixtureUserID+`"]`)),
		chromedp.WaitVisible(css(`[data-testid="timeline-item"]`)),
	)
	text, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid="account-error"]`)))
	if err != nil || text == "" {
		t.Errorf("got account error %q, %v; want the explained error", text, err)
	}
	localised, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("time[data-local]:not([data-zone])").length`))
	if err != nil || localised != 0 {
		t.Errorf("got %d times not localised, %v", localised, err)
	}
	browsertest.Screenshot(t, ctx, "admin-user-timeline")
	browsertest.ElementScreenshot(t, ctx, "admin-account-lifecycle", `[data-testid="lifecycle"]`)

	// The page is open: a new webhook for this user must appear without a reload.
	step("live stream connected", chromedp.WaitReady(css(`html[data-live="open"]`)))
	at := time.Now().UTC().Truncate(time.Second)
	got := a.do(t, signed(pageBody("et-browser-live", "ACCOUNT_DISCONNECTED", at,
		map[string]any{"userId": smiletest.FixtureUserID, "accountId": smiletest.FixtureAccountID})))
	if got.status != 200 {
		t.Fatalf("webhook: got %d %s", got.status, got.body)
	}
	step("see it live", chromedp.WaitVisible(css(`[data-testid="timeline-days"] li.new[data-testid="timeline-item"]`)))
	live, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid="timeline-days"] li.new`)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "ACCOUNT_DISCONNECTED"; !strings.Contains(live, want) {
		t.Errorf("got live item %q, want %s", live, want)
	}
	browsertest.Screenshot(t, ctx, "admin-user-timeline-live")

	for _, page := range []struct{ name, path, ready string }{
		{"admin-events", "/admin/events", `[data-testid="event-row"]`},
		{"admin-event", "/admin/events/et-xss", `[data-testid="change-row"]`},
		{"admin-deliveries", "/admin/deliveries", `[data-testid="delivery-row"]`},
		{"admin-settings", "/admin/settings", `[data-testid="secrets"]`},
		{"admin-admins", "/admin/admins", `[data-testid="admin-row"]`},
		{"admin-tokens", "/admin/tokens", `[data-testid="tokens-page"]`},
		{"admin-audit", "/admin/audit", `[data-testid="audit-row"]`},
	} {
		step(page.name, chromedp.Navigate(base+page.path), chromedp.WaitVisible(css(page.ready)))
		browsertest.Screenshot(t, ctx, page.name)
	}
	step("narrow screen, dark theme",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/admin/users/"+smiletest.FixtureUserID),
		chromedp.WaitVisible(css(`[data-testid="timeline-item"]`)),
		chromedp.Click(css(`[data-testid="theme-toggle"]`)),
	)
	browsertest.Screenshot(t, ctx, "admin-user-narrow-dark")
}
