package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
)

// pageSecurity sets the headers every HTML page gets and puts a fresh CSP nonce
// in the request context, where templ.GetNonce finds it for inline scripts.
// extraScriptSrc and extraFrameSrc admit the Smile widget's origin on the
// connect page; other pages admit only our own origin.
func pageSecurity(extraScriptSrc, extraFrameSrc, extraConnectSrc []string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		nonce := newNonce()
		c.SetUserContext(templ.WithNonce(c.UserContext(), nonce))
		c.Set("Content-Security-Policy", contentSecurityPolicy(nonce, extraScriptSrc, extraFrameSrc, extraConnectSrc))
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", "same-origin")
		c.Set("X-Frame-Options", "DENY")
		return c.Next()
	}
}

// smileWidgetHosts are the origins Smile's Wink Widget is documented to use
// (smile-api.md §3.1 and §3.2): web.smileapi.io serves smile.v2.js, and the
// widget talks to the Link API of production or sandbox, whose host the
// older apiHost option named. Which of them it frames is not documented, so
// all three may be framed and called.
var smileWidgetHosts = []string{"https://web.smileapi.io", "https://link.smileapi.io", "https://link-sandbox.smileapi.io"}

// connectPageSecurity is pageSecurity for the connect page. With Smile's
// widget (a script on another origin) it admits that origin and Smile's
// widget hosts; with our own sandbox widget (a /static/ path) it admits
// none of them. extraHosts (SMILE_WIDGET_HOSTS: hosts Smile adds later) are
// admitted either way, for scripts, frames and requests alike.
func connectPageSecurity(widgetScriptURL string, extraHosts []string) fiber.Handler {
	scripts := widgetOrigin(widgetScriptURL)
	var others []string
	if len(scripts) > 0 {
		scripts = append(scripts, smileWidgetHosts[0])
		others = append(append(others, scripts...), smileWidgetHosts...)
	}
	scripts = uniqueStrings(append(scripts, extraHosts...))
	others = uniqueStrings(append(others, extraHosts...))
	return pageSecurity(scripts, others, others)
}

// uniqueStrings drops repeats, keeping the first of each.
func uniqueStrings(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func contentSecurityPolicy(nonce string, scriptSrc, frameSrc, connectSrc []string) string {
	join := func(base string, extra []string) string {
		return strings.TrimSpace(base + " " + strings.Join(extra, " "))
	}
	return strings.Join([]string{
		"default-src 'self'",
		join(scriptSelf(nonce), scriptSrc),
		join("connect-src 'self'", connectSrc),
		join("frame-src 'self'", frameSrc),
		"img-src 'self' data: https:",
		"style-src 'self' 'unsafe-inline'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
		"object-src 'none'",
	}, "; ")
}

// scriptSelf admits our own scripts and, on pages that have one, the inline
// scripts carrying the nonce.
func scriptSelf(nonce string) string {
	if nonce == "" {
		return "script-src 'self'"
	}
	return "script-src 'self' 'nonce-" + nonce + "'"
}

func newNonce() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}
