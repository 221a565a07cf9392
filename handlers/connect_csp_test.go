package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"smiledash/handlers"
)

// cspDirectives splits a Content-Security-Policy header into its directives'
// source lists.
func cspDirectives(csp string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// TestShowConnect_CSPAdmitsSmileWidgetHosts checks the connect page admits
// what Smile's real widget needs (its documented script and Link API hosts),
// plus SMILE_WIDGET_HOSTS, and that the sandbox widget's page admits no Smile
// host it does not use.
func TestShowConnect_CSPAdmitsSmileWidgetHosts(t *testing.T) {
	t.Parallel()
	const (
		web      = "https://web.smileapi.io"
		link     = "https://link.smileapi.io"
		linkSbx  = "https://link-sandbox.smileapi.io"
		extra    = "https://widget-cdn.smile.example"
		smileJS  = "https://web.smileapi.io/v2/smile.v2.js"
		otherJS  = "https://cdn.smile.example:8443/v3/smile.v3.js"
		otherOrg = "https://cdn.smile.example:8443"
	)
	tests := []struct {
		name            string
		script          string
		extra           []string
		wantScript      []string
		wantFrame       []string // also wanted in connect-src
		wantNowhere     []string
		wantNotInScript []string
	}{
		{"Smile's widget", smileJS, nil, []string{web}, []string{web, link, linkSbx}, []string{extra}, []string{link, linkSbx}},
		{"Smile's widget and an added host", smileJS, []string{extra}, []string{web, extra}, []string{web, link, linkSbx, extra}, nil, []string{link, linkSbx}},
		{"a widget script elsewhere", otherJS, nil, []string{otherOrg, web}, []string{otherOrg, web, link, linkSbx}, nil, nil},
		{"the sandbox widget", "/static/js/sandbox-widget.js", nil, nil, nil, []string{web, link, linkSbx, extra}, nil},
		{"the sandbox widget and an added host", "/static/js/sandbox-widget.js", []string{extra}, []string{extra}, []string{extra}, []string{web, link, linkSbx}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newConnectApp(t, func(d *handlers.Deps) {
				d.Connect.WidgetScriptURL = tc.script
				d.Connect.WidgetHosts = tc.extra
			})
			l := a.link(t, "crm-csp", nil)
			resp, _, _ := a.open(t, l.Code)
			if resp.status != http.StatusOK {
				t.Fatalf("got %d", resp.status)
			}
			csp := resp.header.Get("Content-Security-Policy")
			d := cspDirectives(csp)
			has := func(directive, src string) bool { return slices.Contains(d[directive], src) }
			for _, src := range tc.wantScript {
				if !has("script-src", src) {
					t.Errorf("script-src lacks %s: %q", src, csp)
				}
			}
			for _, src := range tc.wantFrame {
				for _, directive := range []string{"frame-src", "connect-src"} {
					if !has(directive, src) {
						t.Errorf("%s lacks %s: %q", directive, src, csp)
					}
				}
			}
			for _, src := range tc.wantNowhere {
				if strings.Contains(csp, src) {
					t.Errorf("CSP admits %s, which this widget does not use: %q", src, csp)
				}
			}
			for _, src := range tc.wantNotInScript {
				if has("script-src", src) {
					t.Errorf("script-src admits %s, a Link API host: %q", src, csp)
				}
			}
			if !has("script-src", "'self'") || !has("frame-ancestors", "'none'") || has("script-src", "*") {
				t.Errorf("the rest of the policy changed: %q", csp)
			}
		})
	}
}
