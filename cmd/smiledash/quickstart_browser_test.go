package main

import (
	"context"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"smiledash/internal/browsertest"
	"smiledash/internal/quickstart"
	"smiledash/models"
	"smiledash/static"
)

// TestServe_QuickstartInChromium points an integrator's Smile integration (a
// quickstart-style page and backend, internal/quickstart, on its own origin)
// at `smiledash serve` in sandbox mode, with the widget script URL, API base
// URL and credentials the banner prints, and drives it in Chromium through
// connect, error, upload, token expiry and close: every callback reaches the
// page, and the matching webhooks are stored by smiledash. The page has none
// of our styles; it also runs in an opaque origin (`null`).
func TestServe_QuickstartInChromium(t *testing.T) {
	ctx := browsertest.New(t, 3*time.Minute)
	dir, addr := t.TempDir(), freeAddr(t)
	env := envOf(map[string]string{
		"SMILEDASH_ADDR": addr, "SMILEDASH_DATA_DIR": dir, "SMILEDASH_PUBLIC_URL": "http://" + addr,
		"SMILEDASH_LOG_LEVEL": "error",
	})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	banner := &lockedBuffer{}
	go func() { done <- run(runCtx, []string{"serve"}, strings.NewReader(""), banner, env) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitFor(t, func() bool { return strings.Contains(banner.String(), "Smile API:") })
	api := regexp.MustCompile(`Smile API: +(\S+) +\(HTTP Basic: key (\S+), secret (\S+)\)`).FindStringSubmatch(banner.String())
	script := regexp.MustCompile(`widget script: +(\S+)`).FindStringSubmatch(banner.String())
	if api == nil || script == nil {
		t.Fatalf("banner without the sandbox API or widget: %s", banner.String())
	}
	integrator := httptest.NewServer(quickstart.Handler(quickstart.Config{
		APIBaseURL: api[1], APIKey: api[2], APISecret: api[3], WidgetScriptURL: script[1],
	}))
	t.Cleanup(integrator.Close)
	if strings.HasPrefix(integrator.URL, "http://"+addr) {
		t.Fatal("the integrator's page must be on another origin than smiledash")
	}
	store, err := models.Open(context.Background(), filepath.Join(dir, "smiledash.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := &qsPage{t: t, ctx: ctx, store: store}

	p.do("open the page", chromedp.Navigate(integrator.URL+"/"), qsScreen("consent"))
	p.waitSeen("onUIEvent", "ConsentPageOpened")
	styled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const m = getComputedStyle(document.querySelector(".sbx-modal")), o = getComputedStyle(document.querySelector(".sbx-overlay"));
		const b = getComputedStyle(document.querySelector("[data-sbx=consent-continue]"));
		return o.position === "fixed" && m.backgroundColor === "rgb(255, 255, 255)" && b.borderStyle !== "dotted";
	})()`))
	if err != nil || !styled {
		t.Errorf("the widget is not styled by itself on a foreign page (err %v)", err)
	}
	browsertest.Screenshot(t, ctx, "quickstart-consent")

	// Keyboard focus stays in the dialog.
	for range 12 {
		p.do("tab", chromedp.KeyEvent(kb.Tab))
	}
	if inside, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".sbx-modal").contains(document.activeElement)`)); !inside {
		t.Error("Tab moved the focus out of the widget's dialog")
	}

	// Connect with a sandbox test login.
	p.do("connect", chromedp.Click(`[data-sbx=consent-continue]`), qsScreen("providers"),
		chromedp.Click(`[data-provider-id="sss_ph"]`), qsScreen("login"),
		chromedp.SendKeys(`[data-sbx=login-name]`, "gpalomero1234@smileapi.io"),
		chromedp.SendKeys(`[data-sbx=password]`, "123456"),
		chromedp.Click(`[data-sbx=login-submit]`), chromedp.WaitVisible(`[data-testid=sbx-connected]`))
	p.waitSeen("onAccountCreated", "sss_ph")
	p.waitSeen("onAccountConnected", "sss_ph")
	for _, typ := range []string{"USER_CREATED", "ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "TASK_FINISHED"} {
		p.waitStored(typ, 1)
	}

	// Remove the account from the widget.
	p.do("remove", chromedp.Click(`[data-sbx=remove-account]`), qsScreen("revoke"),
		chromedp.Click(`[data-sbx=confirm-remove]`), qsScreen("providers"))
	p.waitSeen("onAccountRemoved", "sss_ph")
	p.waitStored("ACCOUNT_DISCONNECTED", 1)

	// A wrong password, then Exit on the error page.
	p.do("fail",
		chromedp.Click(`[data-provider-id="upwork"]`), qsScreen("login"),
		chromedp.SendKeys(`[data-sbx=login-name]`, "ryan1234@smileapi.io"),
		chromedp.SendKeys(`[data-sbx=password]`, "wrong"),
		chromedp.Click(`[data-sbx=login-submit]`), chromedp.WaitVisible(`[data-testid=sbx-error]`),
		chromedp.Click(`[data-sbx=exit-error]`), chromedp.WaitNotPresent(`.sbx-overlay`))
	p.waitSeen("onAccountError", "INVALID_CREDENTIALS")
	p.waitSeen("onClose", `"reason":"error"`)
	p.waitStored("ACCOUNT_FAILED", 1)

	// Open again with a fresh token (POST /tokens), upload, Done.
	p.do("upload", chromedp.Click(`#open`), qsScreen("consent"), chromedp.Click(`[data-sbx=consent-continue]`),
		qsScreen("providers"), chromedp.Click(`[data-sbx=upload-start]`), qsScreen("file-types"),
		chromedp.Click(`[data-file-type=PAYSLIP]`), qsScreen("file-type"), chromedp.Click(`[data-sbx=upload-submit]`),
		chromedp.WaitVisible(`[data-testid=sbx-uploaded]`), chromedp.Click(`[data-sbx=remove-upload]`), qsScreen("providers"),
		chromedp.Click(`[data-sbx=upload-start]`), qsScreen("file-types"),
		chromedp.Click(`[data-file-type=COMPANY_ID]`), qsScreen("file-type"), chromedp.Click(`[data-sbx=upload-submit]`),
		chromedp.WaitVisible(`[data-testid=sbx-uploaded]`), chromedp.Click(`[data-sbx=done]`), chromedp.WaitNotPresent(`.sbx-overlay`))
	p.waitSeen("onUploadsCreated", "PAYSLIP")
	p.waitSeen("onUploadsRemoved", "REVOKED")
	p.waitStored("ARCHIVE_REVOKED", 1)
	p.waitSeen("onClose", `"reason":"exit"`)
	p.waitStored("ARCHIVE_STARTED", 1)

	// The token expires: the page gets a new one and opens again; Escape closes.
	p.do("expire", chromedp.Click(`#open`), qsScreen("consent"), chromedp.Click(`[data-sbx=expire-token]`))
	p.waitSeen("onTokenExpired", "")
	p.do("reopened after expiry", qsScreen("consent"), chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(`.sbx-overlay`))
	p.waitSeen("onClose", `"reason":"close"`)
	if n := p.count("onUIEvent", "ConsentPageOpened"); n != 4 {
		t.Errorf("the consent page opened %d times, want 4", n)
	}
	for _, name := range []string{"onAccountCreated", "onAccountConnected", "onAccountRemoved", "onTokenExpired", "onClose",
		"onAccountError", "onUploadsCreated", "onUploadsRemoved", "onUIEvent"} {
		if p.count(name, "") == 0 {
			t.Errorf("the page never saw %s", name)
		}
	}
	if n := p.count("pageError", ""); n != 0 {
		t.Errorf("the page reported %d errors", n)
	}

	// Older options: a restricted list without uploads, the company's name,
	// and a single provider straight to its login.
	p.do("older options", chromedp.Navigate(integrator.URL+"/?providers=sss_ph,cpf_sg&enableUpload=false&companyName=Acme%20Lending"),
		qsScreen("consent"), chromedp.Click(`[data-sbx=consent-continue]`), qsScreen("providers"))
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("[data-provider-id]")].map(b => b.dataset.providerId).join(",") +
		"|" + !!document.querySelector("[data-sbx=upload-start]") + "|" + document.querySelector(".sbx-overlay").textContent.includes("Acme")`)); got != "sss_ph,cpf_sg|false|false" {
		t.Errorf("providers, upload, company on the list: got %s", got)
	}
	p.do("single provider", chromedp.Navigate(integrator.URL+"/?providers=cpf_sg&enableConsentPage=false&companyName=Acme%20Lending"),
		qsScreen("login"), chromedp.WaitVisible(`[data-testid=sbx-login-company]`))

	// A page in an opaque origin (a sandboxed document) works too.
	p.do("origin null", chromedp.Navigate(integrator.URL+"/null.html"), qsScreen("consent"),
		chromedp.Click(`[data-sbx=close]`), chromedp.WaitNotPresent(`.sbx-overlay`), chromedp.WaitVisible(`[data-callback=onClose]`))
	if origin, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`self.origin`)); origin != "null" {
		t.Errorf("the sandboxed page's origin is %q, want null", origin)
	}
}

// TestSandboxWidget_OnCloseConventions: onClose(reason) gets the string,
// onClose({ reason }) the object, and a handler of no argument still runs.
func TestSandboxWidget_OnCloseConventions(t *testing.T) {
	ctx := browsertest.New(t, time.Minute)
	srv := httptest.NewServer(quickstart.Handler(quickstart.Config{WidgetScriptURL: "/widget.js"}))
	t.Cleanup(srv.Close)
	src, err := staticWidget()
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/nothing")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](src+`;(() => {
		const out = [];
		const conventions = [
			function (reason) { out.push(typeof reason + ":" + reason); },
			({ reason }) => { out.push("object:" + reason); },
			function () { out.push("none:" + arguments.length); },
			(arg) => { out.push("named:" + (arg == "close") + ":" + JSON.stringify(arg)); },
		];
		for (const onClose of conventions) {
			const m = new SmileLinkModal({ userToken: "t", onClose });
			m.build();
			document.querySelector("[data-sbx=close]").click();
		}
		return out.join("|");
	})()`))
	want := `string:close|object:close|none:1|named:true:{"reason":"close"}`
	if err != nil || got != want {
		t.Errorf("got %q (err %v), want %q", got, err, want)
	}
}

// qsPage drives the quickstart page and checks what it and smiledash saw.
type qsPage struct {
	t     *testing.T
	ctx   context.Context
	store *models.Store
}

func (p *qsPage) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		browsertest.Screenshot(p.t, p.ctx, "quickstart-failed-"+strings.ReplaceAll(what, " ", "-"))
		log, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`JSON.stringify(window.seen || [])`))
		p.t.Fatalf("%s: %v\ncallbacks seen: %s", what, err, log)
	}
}

// count is how many times the page saw a callback whose argument contains like.
func (p *qsPage) count(name, like string) int {
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](fmt.Sprintf(
		`(window.seen || []).filter(s => s.callback === %q && JSON.stringify(s.arg).includes(%q)).length`, name, like)))
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

func (p *qsPage) waitSeen(name, like string) {
	p.t.Helper()
	waitFor(p.t, func() bool { return p.count(name, like) > 0 })
}

// waitStored waits for smiledash to store n webhooks of a type. The sandbox
// keeps Smile's pace, ten times faster, and a user's webhooks a second apart:
// a connect flow takes up to about 15 seconds, so the wait is longer than
// waitFor's.
func (p *qsPage) waitStored(typ string, n int64) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var got int64
		if err := p.store.DB().Table("events").Where("type = ?", typ).Count(&got).Error; err != nil {
			p.t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %d %s webhook(s) to be stored", n, typ)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func qsScreen(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(`[data-testid=sbx-body][data-screen="` + name + `"]`)
}

// staticWidget is the sandbox widget script as the server embeds it.
func staticWidget() (string, error) {
	assets, err := static.New()
	if err != nil {
		return "", err
	}
	b, err := fs.ReadFile(assets.FS(), "js/sandbox-widget.js")
	return string(b), err
}
