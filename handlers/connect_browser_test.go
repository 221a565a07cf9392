package handlers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/sandbox"
	"smiledash/smile/smiletest"
	"smiledash/static"
)

// e2e is the whole app in sandbox mode listening on loopback: real store and
// ingester, the fake Smile API, and the simulator posting signed webhooks to
// the app's own receiver, as `smiledash serve` runs it without credentials.
type e2e struct {
	store *models.Store
	auth  *auth.Store
	api   *fakeapi.Server
	sim   *sandbox.Simulator
	base  string
}

func startSandboxApp(t *testing.T) *e2e {
	t.Helper()
	store := storetest.SQLite(t)
	in, err := ingest.New(store).NewWriter(ingest.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "sbx-e2e-secret"
	api := fakeapi.New(fakeapi.Options{})
	client, err := smile.NewClient(smile.ClientConfig{
		BaseURL: "http://sandbox.smile.invalid/v1", APIKey: "sandbox", APISecret: "sandbox",
		HTTPClient: &http.Client{Transport: fakeapi.Transport(api)}, RequestsPerSecond: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := sandbox.New(sandbox.Options{API: api, Secret: []byte(secret), RetryDelay: 50 * time.Millisecond, SecondApart: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	allowed, _ := handlers.ParseIPSet("18.142.61.230")
	au := auth.New(store)
	stores := storesOf(store)
	stores.Auth = au
	app := handlers.NewApp(handlers.Deps{
		Stores: stores, Assets: assets, Ingester: in,
		Webhooks: handlers.WebhookConfig{Secrets: [][]byte{[]byte(secret)}, AllowedIPs: allowed.WithLoopback(), MaxBytes: handlers.DefaultWebhookMaxBytes},
		Connect: handlers.ConnectDeps{
			Smile: client, Sandbox: sim.Handler(), PublicURL: base, WidgetScriptURL: "/static/js/sandbox-widget.js",
		},
	})
	go func() { _ = app.Listener(ln) }()
	// The receiver address is learnt from the first sandbox request, as with
	// `serve --addr 127.0.0.1:0`.
	t.Cleanup(func() {
		sim.Close()
		_ = app.ShutdownWithTimeout(5 * time.Second)
		_ = in.Close(context.Background())
	})
	return &e2e{store: store, auth: au, api: api, sim: sim, base: base}
}

// eventually polls cond until it holds, for at most 15 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (e *e2e) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.store.DB().Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *e2e) callbackCount(t *testing.T, name string, argsLike string) int64 {
	t.Helper()
	if argsLike == "" {
		return e.count(t, "callbacks", "name = ?", name)
	}
	return e.count(t, "callbacks", "name = ? AND args LIKE ?", name, "%"+argsLike+"%")
}

func (e *e2e) waitCallback(t *testing.T, name, argsLike string, n int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d %s callback(s) %s", n, name, argsLike), func() bool { return e.callbackCount(t, name, argsLike) >= n })
}

func (e *e2e) waitEvent(t *testing.T, typ string, n int64) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d %s webhook(s)", n, typ), func() bool { return e.count(t, "events", "type = ?", typ) >= n })
}

func (e *e2e) accountStatus(t *testing.T, provider string) string {
	t.Helper()
	var status []string
	if err := e.store.DB().Table("accounts").Where("provider_id = ?", provider).Pluck("status", &status).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if len(status) == 0 {
		return ""
	}
	return status[0]
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		browsertest.Screenshot(t, ctx, "connect-failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

// screen waits for the sandbox widget to show a screen.
func screen(name string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(`[data-testid=sbx-body][data-screen="` + name + `"]`)
}

func login(provider, user, password string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		screen("providers"),
		chromedp.Click(`[data-provider-id="` + provider + `"]`),
		screen("login"),
		chromedp.SendKeys(`[data-sbx=login-name]`, user),
		chromedp.SendKeys(`[data-sbx=password]`, password),
		chromedp.Click(`[data-sbx=login-submit]`),
	}
}

func pageAttr(t *testing.T, ctx context.Context, attr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=connect-page]").getAttribute("`+attr+`")`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestConnectFlowInChromium(t *testing.T) {
	ctx := browsertest.New(t, 3*time.Minute)
	e := startSandboxApp(t)
	l, err := e.store.CreateLink(context.Background(), models.NewLink{ExternalRef: "crm-e2e", Label: "Ana", CreatedBy: "test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	// A phone screen: the page and the widget must fit it.
	do(t, ctx, "open the connect page",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.base+"/connect/"+l.Code),
		chromedp.WaitVisible(`[data-testid=sandbox-banner]`),
		screen("consent"),
	)
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(".sbx-modal").getBoundingClientRect().width <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth`))
	if err != nil || !fits {
		t.Errorf("the widget does not fit a phone screen (err %v)", err)
	}
	browsertest.Screenshot(t, ctx, "connect-phone-consent")
	e.waitCallback(t, "onUIEvent", "ConsentPageOpened", 1)

	// A wrong password: onAccountError and ACCOUNT_FAILED.
	do(t, ctx, "wrong password", append([]chromedp.Action[chromedp.Void]{chromedp.Click(`[data-sbx=consent-continue]`)},
		append(login("cpf_sg", "gpalomero1234@smileapi.io", "not-the-password"), chromedp.WaitVisible(`[data-testid=sbx-error]`))...)...)
	e.waitCallback(t, "onAccountError", "INVALID_CREDENTIALS", 1)
	e.waitEvent(t, "ACCOUNT_FAILED", 1)
	eventually(t, "the cpf_sg account FAILED", func() bool { return e.accountStatus(t, "cpf_sg") == models.AccountError })

	// A sandbox test login connects: callbacks stored, webhooks projected to CONNECTED.
	do(t, ctx, "connect", append([]chromedp.Action[chromedp.Void]{chromedp.Click(`[data-sbx=retry]`), screen("login"), chromedp.Click(`[data-sbx=back]`)},
		append(login("sss_ph", "gpalomero1234@smileapi.io", "123456"), chromedp.WaitVisible(`[data-testid=sbx-connected]`))...)...)
	browsertest.Screenshot(t, ctx, "connect-phone-connected")
	e.waitCallback(t, "onAccountCreated", "sss_ph", 1)
	e.waitCallback(t, "onAccountConnected", "sss_ph", 1)
	for _, typ := range []string{"ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "TASK_STARTED", "IDENTITY_ADDED", "TASK_FINISHED"} {
		e.waitEvent(t, typ, 1)
	}
	eventually(t, "the sss_ph account CONNECTED", func() bool { return e.accountStatus(t, "sss_ph") == models.AccountConnected })
	if n := e.count(t, "callbacks", "name = 'onAccountConnected' AND account_id <> ''"); n != 1 {
		t.Errorf("onAccountConnected stored without its account id")
	}

	// Expire the token: onTokenExpired, a refresh, and the widget reopens with a new token.
	do(t, ctx, "expire the token", chromedp.Click(`[data-sbx=expire-token]`), screen("consent"))
	e.waitCallback(t, "onTokenExpired", "", 1)
	eventually(t, "token_refreshed", func() bool {
		return e.count(t, "actions", "kind = ? AND detail LIKE ?", models.ActionTokenRefreshed, "%expired%") == 1
	})
	if got := pageAttr(t, ctx, "data-opens"); got != "2" {
		t.Errorf("widget opened %s times, want 2 (reopened after expiry)", got)
	}
	if users := e.api.Users(); users != 1 {
		t.Errorf("got %d Smile users, want the link's one", users)
	}

	// Smile's widget need not take itself away when its token expires (the
	// sandbox's does, which hid the bug): wrap the widget so each instance
	// also puts a marker on the page that it never removes. After the next
	// expiry exactly one marker, one modal, must remain.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](stickyWidgetJS)); err != nil {
		t.Fatal(err)
	}
	// Each expiry replaces the modal after a token refresh: wait for the new
	// instance before clicking again, or the click can land on the old one as
	// it is taken away.
	do(t, ctx, "reopen with a widget that stays", chromedp.Click(`[data-sbx=expire-token]`))
	eventually(t, "the second reopen", func() bool { return pageAttr(t, ctx, "data-opens") == "3" })
	do(t, ctx, "the reopened widget", screen("consent"))
	do(t, ctx, "expire the token of a widget that stays", chromedp.Click(`[data-sbx=expire-token]`))
	e.waitCallback(t, "onTokenExpired", "", 3)
	eventually(t, "the third reopen", func() bool { return pageAttr(t, ctx, "data-opens") == "4" })
	do(t, ctx, "the widget reopened once more", screen("consent"))
	for _, sel := range []string{"[data-testid=test-modal]", "[data-testid=sbx-overlay]"} {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("`+sel+`").length`))
		if err != nil || n != 1 {
			t.Errorf("got %d %s on the page after the token expired, want 1: the old modal stayed open (err %v)", n, sel, err)
		}
	}

	// Close with each reason; reopen (a fresh token) after each.
	do(t, ctx, "close", chromedp.Click(`[data-sbx=close]`), chromedp.WaitVisible(`[data-testid=connect-done]`))
	e.waitCallback(t, "onClose", `"reason":"close"`, 1)
	if got := pageAttr(t, ctx, "data-state"); got != "closed" {
		t.Errorf("page state %q after onClose, want closed", got)
	}
	browsertest.Screenshot(t, ctx, "connect-phone-closed")

	do(t, ctx, "reopen and upload, then exit", chromedp.Click(`[data-testid=connect-reopen]`), screen("consent"),
		chromedp.Click(`[data-sbx=consent-continue]`), screen("providers"), chromedp.Click(`[data-sbx=upload-start]`),
		screen("file-types"), chromedp.Click(`[data-file-type=PAYSLIP]`), screen("file-type"),
		chromedp.Click(`[data-sbx=upload-submit]`), chromedp.WaitVisible(`[data-testid=sbx-uploaded]`),
		chromedp.Click(`[data-sbx=done]`), chromedp.WaitVisible(`[data-testid=connect-done]`))
	e.waitCallback(t, "onUploadsCreated", "PAYSLIP", 1)
	e.waitCallback(t, "onClose", `"reason":"exit"`, 1)
	e.waitEvent(t, "ARCHIVE_STARTED", 1)
	e.waitEvent(t, "ARCHIVE_ANALYZED", 1)

	do(t, ctx, "reopen, remove the account, fail a login and exit with error",
		chromedp.Click(`[data-testid=connect-reopen]`), screen("consent"), chromedp.Click(`[data-sbx=consent-continue]`))
	do(t, ctx, "remove", append(login("sss_ph", "3300000008", "123456"),
		chromedp.WaitVisible(`[data-testid=sbx-connected]`), chromedp.Click(`[data-sbx=remove-account]`),
		screen("revoke"), chromedp.Click(`[data-sbx=confirm-remove]`))...)
	e.waitCallback(t, "onAccountRemoved", "sss_ph", 1)
	e.waitEvent(t, "ACCOUNT_DISCONNECTED", 1)
	eventually(t, "the sss_ph account DISCONNECTED", func() bool { return e.accountStatus(t, "sss_ph") == models.AccountDisconnected })
	do(t, ctx, "error exit", append(login("upwork", "ryan1234@smileapi.io", "wrong"),
		chromedp.WaitVisible(`[data-testid=sbx-error]`), chromedp.Click(`[data-sbx=exit-error]`),
		chromedp.WaitVisible(`[data-testid=connect-done]`))...)
	e.waitCallback(t, "onClose", `"reason":"error"`, 1)
	e.waitCallback(t, "onAccountError", "upwork", 1)
	e.waitEvent(t, "ACCOUNT_FAILED", 2)
	if got := e.count(t, "actions", "kind = ? AND detail LIKE ?", models.ActionTokenRefreshed, "%reopen%"); got != 2 {
		t.Errorf("got %d reopen refreshes, want 2", got)
	}

	// Every callback was stored; every webhook the simulator sent matches Smile's spec.
	var names []string
	if err := e.store.DB().Table("callbacks").Distinct("name").Order("name").Pluck("name", &names).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	for _, want := range []string{"onAccountConnected", "onAccountCreated", "onAccountError", "onAccountRemoved", "onClose", "onTokenExpired", "onUIEvent", "onUploadsCreated"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s callback stored; got %v", want, names)
		}
	}
	var bodies [][]byte
	if err := e.store.DB().Table("events").Order("seq").Pluck("body", &bodies).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	for _, b := range bodies {
		if err := smiletest.ValidateEvent(b); err != nil {
			t.Errorf("webhook does not match Smile's spec: %v\n%s", err, b)
		}
	}
	var refused int64
	if err := e.store.DB().Table("deliveries").Count(&refused).Error; err != nil {
		t.Fatalf("count rows: %v", err)
	}
	if refused != 0 {
		t.Errorf("the receiver refused %d sandbox webhooks", refused)
	}
	if n := e.count(t, "callbacks", "user_key IS NULL OR link_id IS NULL"); n != 0 {
		t.Errorf("%d callbacks are not filed under the link's user", n)
	}
}

// stickyWidgetJS wraps SmileLinkModal so every instance, on open, appends a
// marker to <body> that it never removes, like a widget that stays on the
// page after onTokenExpired. Only Smile's documented surface (the global, its
// options and open) is used.
const stickyWidgetJS = `(function () {
  var Inner = window.SmileLinkModal;
  function Sticky(options) {
    this.inner = new Inner(options);
  }
  Sticky.prototype.open = function () {
    var marker = document.createElement("div");
    marker.setAttribute("data-testid", "test-modal");
    marker.hidden = true;
    document.body.appendChild(marker);
    this.inner.open();
  };
  window.SmileLinkModal = Sticky;
  return true;
})()`
