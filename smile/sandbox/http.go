package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Where the sandbox lives on our server. The app mounts Handler at Prefix.
const (
	// Prefix is the sandbox's own corner of the server.
	Prefix = "/sandbox"
	// APIPath is the base URL path of the fake Smile REST API: an integrator's
	// backend sets SMILE_API_BASE_URL (or its own equivalent) to our public URL
	// followed by it, and calls the same paths as on sandbox.smileapi.io/v1.
	APIPath = Prefix + "/smile/v1"
	// WidgetPath is what the sandbox widget script calls.
	WidgetPath = Prefix + "/widget/"
	// receiverPath is our webhook receiver, where the webhooks go.
	receiverPath = "/webhooks/smile"
)

// maxWidgetBytes bounds a sandbox widget request: a token and a few fields.
const maxWidgetBytes = 8 << 10

// widgetRequest is the body of every sandbox widget call; each uses some fields.
type widgetRequest struct {
	Token      string `json:"token"`
	ProviderID string `json:"providerId"`
	LoginName  string `json:"loginName"`
	Password   string `json:"password"`
	FileType   string `json:"fileType"`
	AccountID  string `json:"accountId"`
	ArchiveID  string `json:"archiveId"`
}

type widgetOp func(s *Simulator, r widgetRequest) (any, error)

// Handler is the whole sandbox as one sub-app, for the server to mount at
// Prefix in sandbox mode (and nowhere else):
//
//   - APIPath/...: the fake Smile REST API (fakeapi), HTTP Basic with the
//     sandbox credentials, Smile's paths, envelope and error codes, so an
//     integrator's backend can call it as it calls Smile;
//   - WidgetPath...: the calls of static/js/sandbox-widget.js, standing in for
//     Smile's widget backend. The Link token is the credential, as with
//     Smile's widget, so they answer CORS for any origin, `null` included
//     (sandboxed iframes, file:// pages): a page on another origin loads the
//     script and works as it would with Smile's.
func (s *Simulator) Handler() http.Handler {
	ops := map[string]widgetOp{
		"open": func(s *Simulator, r widgetRequest) (any, error) { return s.Open(r.Token) },
		"login": func(s *Simulator, r widgetRequest) (any, error) {
			return s.Login(r.Token, r.ProviderID, r.LoginName, r.Password)
		},
		"accounts/remove": func(s *Simulator, r widgetRequest) (any, error) { return s.RemoveAccount(r.Token, r.AccountID) },
		"uploads":         func(s *Simulator, r widgetRequest) (any, error) { return s.Upload(r.Token, r.FileType) },
		"uploads/remove":  func(s *Simulator, r widgetRequest) (any, error) { return s.RemoveUpload(r.Token, r.ArchiveID) },
		"expire": func(s *Simulator, r widgetRequest) (any, error) {
			return map[string]bool{"expired": true}, s.ExpireToken(r.Token)
		},
	}
	api := http.StripPrefix(Prefix+"/smile", s.opts.API) // the fake API strips /v1 itself
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.learnReceiver(r)
		path := r.URL.Path
		switch {
		case path == APIPath || strings.HasPrefix(path, APIPath+"/"):
			api.ServeHTTP(w, r)
		case strings.HasPrefix(path, WidgetPath):
			op := ops[strings.TrimPrefix(path, WidgetPath)]
			if op == nil {
				allowAnyOrigin(w)
				widgetError(w, http.StatusNotFound, "There is no such sandbox widget call.")
				return
			}
			s.serveWidget(w, r, op)
		default:
			http.NotFound(w, r)
		}
	})
}

// learnReceiver points the webhooks at our own receiver, over loopback on the
// port this request came in on, when the server was started on a port not
// known in advance (":0"): sandbox webhooks must come from loopback, the only
// source sandbox mode admits besides Smile's own address.
func (s *Simulator) learnReceiver(r *http.Request) {
	if s.ReceiverURL() != "" {
		return
	}
	tcp, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok || tcp.Port == 0 {
		return
	}
	host := "127.0.0.1"
	if tcp.IP.IsLoopback() {
		host = tcp.IP.String()
	}
	s.SetReceiverURL("http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + receiverPath)
}

// serveWidget runs one sandbox widget call. What happens to input: a CORS
// preflight (OPTIONS) is answered 204 for any origin; another method than
// POST: 405; a body over 8 KiB: 413; not one JSON object, or unknown fields:
// 400; an expired or unknown Link token: 401 (the widget then fires
// onTokenExpired); bad fields: 400; another user's account or upload: 404.
// Nothing is changed by a refused call; a repeated call is a new action (a
// second login, a second upload), as in Smile. Every answer carries the CORS
// header, so a page on another origin sees errors too, not a network failure.
func (s *Simulator) serveWidget(w http.ResponseWriter, r *http.Request, op widgetOp) {
	allowAnyOrigin(w)
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
		h.Set("Access-Control-Max-Age", "600")
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true") // a public page calling a local sandbox
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		widgetError(w, http.StatusMethodNotAllowed, "Use POST.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWidgetBytes+1))
	if err != nil {
		widgetError(w, http.StatusBadRequest, "The request could not be read.")
		return
	}
	if len(body) > maxWidgetBytes {
		widgetError(w, http.StatusRequestEntityTooLarge, "The request is too large.")
		return
	}
	var in widgetRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		widgetError(w, http.StatusBadRequest, "Send one JSON object.")
		return
	}
	out, err := op(s, in)
	switch {
	case errors.Is(err, ErrTokenExpired):
		widgetError(w, http.StatusUnauthorized, "The Link token has expired.")
	case errors.Is(err, ErrInvalid):
		widgetError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	case errors.Is(err, ErrNotYours):
		widgetError(w, http.StatusNotFound, "There is no such account or upload for this user.")
	case err != nil:
		s.opts.Log.Error("Sandbox widget call failed", "path", r.URL.Path, "error", err)
		widgetError(w, http.StatusInternalServerError, "The sandbox could not do that.")
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// allowAnyOrigin opens a widget answer to every origin: the widget endpoints
// take no cookies (the token in the body is the credential) and exist only in
// the sandbox, so "*" is safe and also covers the origin `null`.
func allowAnyOrigin(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

func widgetError(w http.ResponseWriter, status int, public string) {
	writeJSON(w, status, map[string]string{"error": public})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"The sandbox could not do that."}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
