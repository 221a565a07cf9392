package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/storetest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// gzipBomb is 256 MiB of zeros, gzipped (about 255 KB), made once.
var gzipBomb = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 256 {
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	return buf.Bytes()
})

// allocatedDuring reports how many bytes the process allocated while f ran.
// Total allocation, not the live heap: an inflated body is garbage as soon as
// the request ends, but it was allocated all the same.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileInput_GzipBombNeverInflated posts a gzip bomb to every endpoint
// that takes a body from the internet: it is refused unread (415, or 403 from
// a refused address), the process allocates a few MiB at most instead of
// 256 MiB, and nothing of the body is stored. Not parallel: it measures the
// whole process's allocations.
func TestHostileInput_GzipBombNeverInflated(t *testing.T) {
	bomb := gzipBomb()
	const budget = 32 << 20
	tests := []struct {
		name       string
		path       string
		allowed    string
		wantStatus int
		wantReason string // delivery recorded; "" for the connect endpoints
	}{
		{"webhook from a refused address", "/webhooks/smile", "18.142.61.230", http.StatusForbidden, models.ReasonIPRefused},
		{"webhook from an allowed address", "/webhooks/smile", testPeer, http.StatusUnsupportedMediaType, models.ReasonEncodingRefused},
		{"callback of an unknown link", "/connect/doesnotexist0000000000000/events", testPeer, http.StatusUnsupportedMediaType, ""},
		{"token of an unknown link", "/connect/doesnotexist0000000000000/token", testPeer, http.StatusUnsupportedMediaType, ""},
	}
	storetest.Each(t, func(t *testing.T, store *models.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a := appOn(t, store, func(d *handlers.Deps) {
					d.Webhooks.MaxBytes = 1 << 20 // the bomb fits: only its encoding is refused
					d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet(tc.allowed)
				})
				req := httptest.NewRequest(http.MethodPost, tc.path, bytes.NewReader(bomb))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(smiletest.FixtureSecret), bomb))
				var got response
				grew := allocatedDuring(func() { got = a.do(t, req) })
				if got.status != tc.wantStatus || !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
					t.Errorf("got %d %s %.200s, want %d with a JSON error", got.status, got.header.Get("Content-Type"), got.body, tc.wantStatus)
				}
				t.Logf("allocated %.1f MiB for a %d KB gzip bomb of 256 MiB", float64(grew)/(1<<20), len(bomb)/1000)
				if grew > budget {
					t.Errorf("the request allocated %d MiB, want under %d MiB: the body was inflated", grew>>20, budget>>20)
				}
				if tc.wantReason == "" {
					return
				}
				d := waitForReason(t, a, tc.wantReason)
				if d.Excerpt != "" || d.BodyBytes != len(bomb) || d.Status != tc.wantStatus {
					t.Errorf("got delivery %+v, want no excerpt, the compressed size %d and status %d", d, len(bomb), tc.wantStatus)
				}
				var events int64
				if err := a.store.DB().Model(&models.Event{}).Count(&events).Error; err != nil {
					t.Fatalf("count rows: %v", err)
				}
				if events != 0 {
					t.Errorf("got %d events stored", events)
				}
			})
		}
	})
}

// waitForReason waits for the writer to record a delivery with the reason.
// (waitForDelivery's barrier cannot be used when the allowlist refuses it.)
func waitForReason(t *testing.T, a *testApp, reason string) models.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var d models.Delivery
	for a.store.DB().Where("reason = ?", reason).Take(&d).Error != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no %s delivery recorded", reason)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d
}

// TestReceiveWebhook_ContentEncoding checks each encoding: identity (or none)
// is verified and stored byte for byte, anything else is refused unread, even
// when a second Content-Encoding header hides behind an identity one.
func TestReceiveWebhook_ContentEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		encodings  []string
		wantStatus int
	}{
		{"none", nil, http.StatusOK},
		{"identity", []string{"identity"}, http.StatusOK},
		{"Identity", []string{"Identity"}, http.StatusOK},
		{"gzip", []string{"gzip"}, http.StatusUnsupportedMediaType},
		{"deflate", []string{"deflate"}, http.StatusUnsupportedMediaType},
		{"br", []string{"br"}, http.StatusUnsupportedMediaType},
		{"identity then gzip in one header", []string{"identity, gzip"}, http.StatusUnsupportedMediaType},
		{"identity then gzip in two headers", []string{"identity", "gzip"}, http.StatusUnsupportedMediaType},
		{"unknown", []string{"x-custom"}, http.StatusUnsupportedMediaType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t)
			body := smiletest.Event("USER_CREATED")
			req := signed(body)
			for _, e := range tc.encodings {
				req.Header.Add("Content-Encoding", e)
			}
			got := a.do(t, req)
			if got.status != tc.wantStatus {
				t.Fatalf("got %d %s, want %d", got.status, got.body, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusOK {
				if d := waitForDelivery(t, a, models.ReasonEncodingRefused); d.Excerpt != "" {
					t.Errorf("got excerpt %q, want none", d.Excerpt)
				}
				return
			}
			var ev models.Event
			if err := a.store.DB().Take(&ev).Error; err != nil || !bytes.Equal(ev.Body, body) {
				t.Errorf("stored %q (%v), want the body byte for byte", ev.Body, err)
			}
		})
	}
}

// TestReceiveWebhook_OversizedAnswersJSONAndIsRecorded sends a webhook over the
// limit with a Content-Length and chunked: both get a JSON 413 with the
// security headers, and both leave a delivery record with the client's address
// (from X-Forwarded-For, through a trusted proxy), although fasthttp has thrown
// the chunked request away by the time it reports it.
func TestReceiveWebhook_OversizedAnswersJSONAndIsRecorded(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, func(d *handlers.Deps) {
				d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet("127.0.0.1,203.0.113.9")
				d.Webhooks.TrustedProxies, _ = handlers.ParseIPSet("127.0.0.1")
			})
			addr := serveOnLoopback(t, a)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			big := bytes.Repeat([]byte("x"), 72<<10) // over the test app's 64 KiB
			head := "POST /webhooks/smile HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Forwarded-For: 203.0.113.9\r\n" +
				"Smile-Signature: " + strings.Repeat("ab", 64) + "\r\n"
			go func() {
				if chunked {
					fmt.Fprint(conn, head+"Transfer-Encoding: chunked\r\n\r\n")
					for i := 0; i < len(big); i += 8 << 10 {
						if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", 8<<10, big[i:i+8<<10]); err != nil {
							return // the server answered and closed
						}
					}
					fmt.Fprint(conn, "0\r\n\r\n")
					return
				}
				fmt.Fprintf(conn, "%sContent-Length: %d\r\n\r\n%s", head, len(big), big)
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/json" ||
				!strings.Contains(string(body), `"error":"The webhook body is larger`) {
				t.Fatalf("got %d %s %s, want a JSON 413", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			checkSecurityHeaders(t, "413", resp.Header, false)
			d := waitForReason(t, a, models.ReasonTooLarge)
			if d.SourceIP != "203.0.113.9" || d.Status != http.StatusRequestEntityTooLarge || d.Excerpt != "" || d.BodyBytes <= 64<<10 {
				t.Errorf("got delivery %+v, want the forwarded client, 413, no excerpt and a size over the limit", d)
			}
		})
	}
}

// serveOnLoopback serves the app on a loopback port until the test ends.
func serveOnLoopback(t *testing.T, a *testApp) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.app.Listener(ln) }()
	t.Cleanup(func() { _ = a.app.Shutdown() })
	return ln.Addr().String()
}

// checkSecurityHeaders checks the headers every response must carry, and
// Cache-Control: no-store where private data may be served.
func checkSecurityHeaders(t *testing.T, what string, h http.Header, private bool) {
	t.Helper()
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("%s: got CSP %q", what, csp)
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: got %s %q, want %q", what, name, got, want)
		}
	}
	if private && h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: got Cache-Control %q, want no-store", what, h.Get("Cache-Control"))
	}
}

// TestSecurityHeaders_EveryRoute walks the route table (signed out, and
// signed in for pages and the API), a 404, a 405-like wrong method, and a 413,
// and checks the headers on every answer; HSTS only when the public URL is https.
func TestSecurityHeaders_EveryRoute(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, func(d *handlers.Deps) { d.Admin.PublicURL = "https://dash.example.test" })
	admin := a.signIn(t, handlers.RoleAdmin)
	token, _ := createTestToken(t, a, handlers.RoleAdmin)
	private := func(path string) bool {
		for _, p := range []string{"/admin", "/api/", "/connect/", "/login", "/logout"} {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
	check := func(what, path string, got response) {
		t.Helper()
		checkSecurityHeaders(t, what, got.header, private(path))
		if got.header.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: no HSTS with an https public URL", what)
		}
	}
	routes := a.app.GetRoutes(true)
	if len(routes) < 20 {
		t.Fatalf("got %d routes, the route table looks wrong", len(routes))
	}
	for _, r := range routes {
		path := fillRouteParams(r.Path)
		what := r.Method + " " + path
		check(what+" signed out", path, a.do(t, httptest.NewRequest(r.Method, path, strings.NewReader("{}"))))
		if r.Method != http.MethodGet || strings.HasSuffix(path, "/stream") {
			continue // the stream never ends; it gets the same headers as every GET
		}
		if strings.HasPrefix(path, "/api/") {
			req := httptest.NewRequest(r.Method, path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			check(what+" with a token", path, a.do(t, req))
		} else {
			check(what+" signed in", path, admin.get(t, path))
		}
	}
	check("404", "/nothing-here", a.do(t, httptest.NewRequest(http.MethodGet, "/nothing-here", nil)))
	check("wrong method", "/webhooks/smile", a.do(t, httptest.NewRequest(http.MethodDelete, "/webhooks/smile", nil)))
	// fasthttp refuses a body over the limit itself, which app.Test cannot
	// observe: this one goes over a real socket. It answers from the
	// Content-Length alone and closes the connection, so the body is not
	// sent: a client still writing it could see the reset before the answer.
	conn, err := net.Dial("tcp", serveOnLoopback(t, a))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a server waiting for the body fails the test
	if _, err := fmt.Fprintf(conn, "POST /admin/links HTTP/1.1\r\nHost: smiledash.test\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", 70<<10); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", resp.StatusCode)
	}
	check("413", "/admin/links", response{status: resp.StatusCode, header: resp.Header})

	plain := newTestApp(t)
	if got := plain.do(t, httptest.NewRequest(http.MethodGet, "/healthz", nil)); got.header.Get("Strict-Transport-Security") != "" {
		t.Error("got HSTS with an http public URL")
	}
}

// TestReceiveWebhook_ForwardedForNotAliased sends refused webhooks, each with
// its own X-Forwarded-For, over a few keep-alive connections at once, through a
// trusted proxy. The writer records them after the handlers have returned and
// fasthttp has reused their buffers: every address must be recorded exactly as
// sent.
func TestReceiveWebhook_ForwardedForNotAliased(t *testing.T) {
	t.Parallel()
	a := newTestApp(t, func(d *handlers.Deps) {
		d.Webhooks.AllowedIPs, _ = handlers.ParseIPSet(smileIP)
		d.Webhooks.TrustedProxies, _ = handlers.ParseIPSet("127.0.0.1")
	})
	addr := serveOnLoopback(t, a)
	const conns, perConn = 8, 100 // 800 rejections: fewer than the writer's queue holds, so none is dropped
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns}}
	post := func(forwardedFor string) int {
		body := []byte(`{"id":"x"}`)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhooks/smile", bytes.NewReader(body))
		req.Header.Set("X-Forwarded-For", forwardedFor)
		req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(smiletest.FixtureSecret), body))
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	sent := map[string]bool{}
	var wg sync.WaitGroup
	for c := range conns {
		for i := range perConn {
			sent[fmt.Sprintf("10.%d.%d.%d", c, i/250, i%250+1)] = true
		}
		wg.Go(func() {
			for i := range perConn {
				if got := post(fmt.Sprintf("10.%d.%d.%d", c, i/250, i%250+1)); got != http.StatusForbidden {
					t.Errorf("got %d, want 403", got)
				}
			}
		})
	}
	wg.Wait()
	var recorded []string
	deadline := time.Now().Add(10 * time.Second)
	for len(recorded) < len(sent) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the writer records rejections after the answers
		recorded = nil
		if err := a.store.DB().Model(&models.Delivery{}).Where("reason = ?", models.ReasonIPRefused).Pluck("source_ip", &recorded).Error; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, ip := range recorded {
		if !sent[ip] || seen[ip] {
			t.Errorf("recorded %q, which was not sent or was recorded twice", ip)
		}
		seen[ip] = true
	}
	if len(recorded) != len(sent) {
		t.Errorf("got %d records, want %d", len(recorded), len(sent))
	}
}

const smileIP = "18.142.61.230"
