package handlers_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"smiledash/handlers"
	"smiledash/internal/browsertest"
	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/smile/smiletest"
)

// overflowScript lists what sticks out of the viewport: the page's scroll
// width and the outermost elements reaching past the right edge that are not
// inside a box that scrolls on its own.
const overflowScript = `(() => {
  const w = window.innerWidth, out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right <= w + 0.5 || r.width === 0) continue;
    let inner = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ov = getComputedStyle(p).overflowX;
      if (ov === "auto" || ov === "scroll" || ov === "hidden") { inner = true; break; }
    }
    if (inner) continue;
    out.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).replace(/ +/g, ".") : "") +
      (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") + " right=" + Math.round(r.right));
    if (out.length >= 6) break;
  }
  const scrolled = [];
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      const t = wrap.querySelector("table");
      scrolled.push((t && t.dataset.testid || "table") + " " + wrap.scrollWidth + ">" + wrap.clientWidth);
    }
  }
  // Words break between words: break-all splits "API key" into "AP I key".
  const breakAll = [...document.body.querySelectorAll("*")].filter(el => getComputedStyle(el).wordBreak === "break-all").length;
  // Underscores of linked ids and event types stay visible above the underline.
  const hidden = [...document.querySelectorAll("a")].filter(a => a.textContent.includes("_") &&
    getComputedStyle(a).textDecorationLine.includes("underline") && getComputedStyle(a).textUnderlineOffset === "auto").length;
  return {scroll: document.documentElement.scrollWidth, inner: w, culprits: out, scrolled: scrolled, breakAll: breakAll, hiddenUnderscores: hidden};
})()`

type overflow struct {
	Scroll   int      `json:"scroll"`
	Inner    int      `json:"inner"`
	Culprits []string `json:"culprits"`
	// Scrolled are tables wider than their box, which scroll inside it.
	Scrolled []string `json:"scrolled"`
	// BreakAll counts elements breaking words anywhere; HiddenUnderscores
	// counts underlined links with "_" whose underline would cover it.
	BreakAll          int `json:"breakAll"`
	HiddenUnderscores int `json:"hiddenUnderscores"`
}

// TestAdminPages_Phone opens every page at a phone's size (390×844) with
// tables full of seeded data and checks none is wider than the screen (tables
// scroll inside their own box), that no request of any page fails (the
// favicon), saving a screenshot of each.
func TestAdminPages_Phone(t *testing.T) {
	ctx := browsertest.New(t, 3*time.Minute)
	// Sandbox mode: the top bar has its badge and Settings its longest texts.
	a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) { d.Pages.Settings.Sandbox, d.Admin.Sandbox = true, true })
	seedPages(t, a, 60)
	bg := context.Background()
	const email, password = "phone@example.test", "a long phone password"
	me, err := a.auth.CreateAdmin(bg, auth.NewAdmin{Email: email, Password: password, Role: handlers.RoleAdmin}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.auth.CreateAdmin(bg, auth.NewAdmin{Email: fmt.Sprintf("a-rather-long-colleague-name-%d@a-long-company-domain.example", i),
			Password: password, Role: handlers.RoleViewer}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.auth.CreateAPIToken(bg, auth.NewAPIToken{Name: fmt.Sprintf("nightly reporting export %d", i),
			Role: handlers.RoleViewer, CreatedBy: &me.ID}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := a.store.CreateLink(bg, models.NewLink{ExternalRef: fmt.Sprintf("crm-customer-%04d", i), Label: "Ana Maria Santos",
			CreatedBy: email, Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := a.store.EventByEventID(bg, "et-xss")
	if err != nil {
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

	// Every failed request of every page (the favicon was the usual one).
	var mu sync.Mutex
	var failed []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Response.Status >= 400 && !strings.HasSuffix(r.Response.URL, "/no/such/page") {
			mu.Lock()
			failed = append(failed, fmt.Sprintf("%d %s", r.Response.Status, r.Response.URL))
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(failed) > 0 {
			t.Errorf("requests failed while showing the pages: %v", failed)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path, ready string }{
		{"start", "/", `[data-testid="start-page"]`},
		{"login", "/login", `[data-testid="login-page"]`},
		{"error", "/no/such/page", `[data-testid="error-page"]`},
	}
	check := func(name, path, ready string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(css(ready))); err != nil {
			t.Fatalf("%s (%s): %v", name, path, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](overflowScript))
		if err != nil {
			t.Fatal(err)
		}
		if got.Scroll > got.Inner {
			t.Errorf("%s (%s): page is %d px wide on a %d px screen; sticking out: %v", name, path, got.Scroll, got.Inner, got.Culprits)
		}
		if got.BreakAll > 0 || got.HiddenUnderscores > 0 {
			t.Errorf("%s (%s): %d elements break words anywhere, %d links hide underscores under the underline", name, path, got.BreakAll, got.HiddenUnderscores)
		}
		if len(got.Scrolled) > 0 {
			t.Errorf("%s (%s): tables cut off at the screen's edge (scroll to see all): %v", name, path, got.Scrolled)
		}
		browsertest.Screenshot(t, ctx, "phone-"+name)
	}
	for _, p := range pages {
		check(p.name, p.path, p.ready)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="overview-page"]`)),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	for _, p := range []struct{ name, path, ready string }{
		{"overview", "/admin", `[data-testid="overview-page"]`},
		{"users", "/admin/users", `[data-testid="user-row"]`},
		{"user", "/admin/users/" + url.PathEscape(smiletest.FixtureUserID), `[data-testid="timeline-item"]`},
		{"user-failed", "/admin/users/" + url.PathEscape(xssUser), `[data-testid="timeline-item"]`},
		{"events", "/admin/events", `[data-testid="event-row"]`},
		{"event", fmt.Sprintf("/admin/events/%d", ev.Seq), `[data-testid="change-row"]`},
		{"deliveries", "/admin/deliveries", `[data-testid="delivery-row"]`},
		{"links", "/admin/links", `[data-testid="link-row"]`},
		{"settings", "/admin/settings", `[data-testid="secrets"]`},
		{"admins", "/admin/admins", `[data-testid="admin-row"]`},
		{"tokens", "/admin/tokens", `[data-testid="token-row"]`},
		{"audit", "/admin/audit", `[data-testid="audit-row"]`},
	} {
		check(p.name, p.path, p.ready)
	}
}
