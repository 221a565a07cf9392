package handlers

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Timeouts of a connection. Headers must arrive within headerTimeout of the
// first byte (or of accepting the connection), a body within bodyTimeout of its
// headers, and an idle keep-alive connection is closed after IdleTimeout, so
// connections that send nothing, or trickle, cannot pile up.
const (
	headerTimeout = 10 * time.Second
	bodyTimeout   = 60 * time.Second
	idleTimeout   = 30 * time.Second
	writeTimeout  = 30 * time.Second
)

// edge holds what the app does below Fiber's router, on fasthttp's own hooks:
// the security headers every response carries (including those fasthttp
// writes itself, such as a 413), and the header notes that let the error
// handler recognise an oversized chunked webhook after fasthttp has reset the
// request it could not read.
type edge struct {
	hsts bool
	// notes maps a request in flight (by its header, which fasthttp passes to
	// HeaderReceived and later to the error handler) to what its header said.
	// Entries are removed as soon as the request reaches the router or the
	// error handler.
	notes sync.Map
}

// headerNote is what is kept of a webhook's header until its body is read.
type headerNote struct {
	forwardedFor string
}

// install puts the edge hooks on the app's fasthttp server.
func (e *edge) install(app *fiber.App) {
	srv := app.Server()
	route := srv.Handler
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		e.notes.Delete(&ctx.Request.Header)
		e.secure(&ctx.Response.Header, ctx.Path())
		route(ctx)
		if noStorePath(ctx.Path()) {
			// After the handler, so a handler's own (weaker) value cannot win.
			ctx.Response.Header.Set(fiber.HeaderCacheControl, "no-store")
		}
	}
	srv.HeaderReceived = e.headerReceived
}

// headerReceived runs once a request's header has been read, before its body:
// it gives the body its own deadline and notes webhook headers (copied: the
// header's buffer is reused).
func (e *edge) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if h.IsPost() && isWebhookPath(h.RequestURI()) {
		e.notes.Store(h, headerNote{forwardedFor: string(h.Peek(fiber.HeaderXForwardedFor))})
	} else {
		e.notes.Delete(h)
	}
	return fasthttp.RequestConfig{ReadTimeout: bodyTimeout}
}

// takeNote returns and forgets the header note of a request, if it was a webhook.
func (e *edge) takeNote(h *fasthttp.RequestHeader) (headerNote, bool) {
	if e == nil {
		return headerNote{}, false
	}
	v, ok := e.notes.LoadAndDelete(h)
	if !ok {
		return headerNote{}, false
	}
	return v.(headerNote), true
}

// baselineCSP is the policy of every response that does not set its own:
// pages without inline scripts (error pages) still get their CSS, nothing may
// frame us, and nothing runs that we did not serve.
var baselineCSP = contentSecurityPolicy("", nil, nil, nil)

// secure sets the headers every response carries. Page routes replace the CSP
// with one holding their nonce (pageSecurity). A nil edge (a Handler built
// without NewApp, in tests) sets them without HSTS.
func (e *edge) secure(h *fasthttp.ResponseHeader, path []byte) {
	h.Set("Content-Security-Policy", baselineCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if e != nil && e.hsts {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if noStorePath(path) {
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
}

// noStorePath reports whether responses for path hold personal or secret data
// (admin pages, the API, connect pages and tokens, sign-in) and so must not be
// kept by browsers or proxies.
func noStorePath(path []byte) bool {
	for _, prefix := range []string{"/admin", "/api", "/connect", "/login", "/logout"} {
		if len(path) >= len(prefix) && strings.EqualFold(string(path[:len(prefix)]), prefix) &&
			(len(path) == len(prefix) || path[len(prefix)] == '/') {
			return true
		}
	}
	return false
}

// isWebhookPath reports whether a request URI (path and query) reaches the
// webhook route, which, like every route, ignores case and a trailing slash.
func isWebhookPath(uri []byte) bool {
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return strings.EqualFold(strings.TrimSuffix(string(uri), "/"), webhookPath)
}

// isHTTPS reports whether a public URL is served over TLS.
func isHTTPS(u string) bool { return strings.HasPrefix(strings.ToLower(u), "https://") }
