package handlers_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

// TestSettings_SandboxSecretRevealAndCopy_Browser: in sandbox mode the secret
// is hidden until revealed, and Copy puts the whole secret on the clipboard.
func TestSettings_SandboxSecretRevealAndCopy_Browser(t *testing.T) {
	ctx := browsertest.New(t, time.Minute)
	a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) {
		d.Pages.Settings.Sandbox = true
		d.Admin.Sandbox = true
	})
	const email, password = "settings@example.test", "a long settings password"
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
	value := `[data-testid="sandbox-secret-value"]`
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="overview-page"]`),
		chromedp.Navigate(base+"/admin/settings"),
		chromedp.WaitVisible(value),
	)
	if err != nil {
		t.Fatal(err)
	}
	typeOf := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+value+`').type`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := typeOf(); got != "password" {
		t.Errorf("before reveal: input type %q, want password", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="sandbox-secret-reveal"]`)); err != nil {
		t.Fatal(err)
	}
	if got := typeOf(); got != "text" {
		t.Errorf("after reveal: input type %q, want text", got)
	}
	browsertest.Screenshot(t, ctx, "admin-settings-sandbox")
	// Headless Chromium has no clipboard to read back: record what is written.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function () {
		var clip = { writeText: function (v) { window.copied = v; return Promise.resolve(); } };
		Object.defineProperty(navigator, "clipboard", { value: clip, configurable: true });
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="sandbox-secret-copy"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.copied !== undefined`)); err != nil {
		t.Fatal(err)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.copied`))
	if err != nil || copied != smiletest.FixtureSecret {
		t.Errorf("copied %q, %v; want the sandbox secret", copied, err)
	}
}
