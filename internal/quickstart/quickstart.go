// Package quickstart is an integrator's Smile integration in miniature, for
// the browser tests of the sandbox: a page that loads the widget script and a
// backend that calls Smile's REST API with HTTP Basic, written from Smile's
// documented calling conventions (its public quickstart: a page on its own
// origin, `POST {host}/users` with `{}` for a user and its Link token, `POST
// {host}/tokens?userId=` for a fresh one). Pointed at smiledash's sandbox it
// proves that code written for Smile works against the sandbox unchanged.
package quickstart

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

//go:embed page
var page embed.FS

var index = template.Must(template.ParseFS(page, "page/index.html"))

// Config is what an integrator configures: Smile's host and credentials for
// the backend, and the widget script for the page.
type Config struct {
	APIBaseURL      string // e.g. https://sandbox.smileapi.io/v1, or smiledash's /sandbox/smile/v1
	APIKey          string
	APISecret       string
	WidgetScriptURL string // e.g. https://web.smileapi.io/v2/smile.v2.js
}

// Handler serves the page at / (and /null.html, the same page in an opaque
// origin, as in a sandboxed iframe), its script, and the backend under /api/.
// The backend answers CORS for any origin, as the quickstart's does.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	client := &http.Client{Timeout: 10 * time.Second}
	servePage := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/null.html" {
			// A sandboxed document has the origin `null`.
			w.Header().Set("Content-Security-Policy", "sandbox allow-scripts")
		}
		_ = index.Execute(w, cfg)
	}
	mux.HandleFunc("GET /{$}", servePage)
	mux.HandleFunc("GET /null.html", servePage)
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		b, _ := page.ReadFile("page/app.js")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /api/create_link_token", func(w http.ResponseWriter, r *http.Request) {
		var out struct {
			Data struct {
				User  struct{ ID string } `json:"user"`
				Token map[string]any      `json:"token"`
			} `json:"data"`
		}
		if err := call(r, client, cfg, "/users", `{}`, &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Data.Token["userId"] = out.Data.User.ID
		writeJSON(w, out.Data.Token)
	})
	mux.HandleFunc("POST /api/refresh_token", func(w http.ResponseWriter, r *http.Request) {
		var out struct {
			Data map[string]any `json:"data"`
		}
		if err := call(r, client, cfg, "/tokens?userId="+url.QueryEscape(r.URL.Query().Get("userId")), "", &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		writeJSON(w, out.Data)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		mux.ServeHTTP(w, r)
	})
}

// call POSTs to Smile's API with HTTP Basic and decodes a 201 answer.
func call(r *http.Request, client *http.Client, cfg Config, target, body string, out any) error {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimRight(cfg.APIBaseURL, "/")+target, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(cfg.APIKey, cfg.APISecret)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: HTTP %d %s", target, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
