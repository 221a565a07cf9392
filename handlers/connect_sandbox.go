package handlers

import (
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/smile/sandbox"
)

// maxSandboxBytes bounds a sandbox widget request: a token and a few fields.
const maxSandboxBytes = 8 << 10

// sandboxRequest is the body of every sandbox widget call; each uses some fields.
type sandboxRequest struct {
	Token      string `json:"token"`
	ProviderID string `json:"providerId"`
	LoginName  string `json:"loginName"`
	Password   string `json:"password"`
	FileType   string `json:"fileType"`
	AccountID  string `json:"accountId"`
	ArchiveID  string `json:"archiveId"`
}

// sandboxRoutes registers the API the sandbox widget (static/js/sandbox-widget.js)
// calls, standing in for Smile's own widget backend. It exists only in sandbox
// mode. The Link token is the credential, as with Smile's widget.
func (h *Handler) sandboxRoutes(app *fiber.App) {
	g := app.Group("/sandbox/widget")
	g.Post("/open", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) { return s.Open(r.Token) }))
	g.Post("/login", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) {
		return s.Login(r.Token, r.ProviderID, r.LoginName, r.Password)
	}))
	g.Post("/accounts/remove", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) {
		return s.RemoveAccount(r.Token, r.AccountID)
	}))
	g.Post("/uploads", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) { return s.Upload(r.Token, r.FileType) }))
	g.Post("/uploads/remove", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) {
		return s.RemoveUpload(r.Token, r.ArchiveID)
	}))
	g.Post("/expire", h.sandboxCall(func(s *sandbox.Simulator, r sandboxRequest) (any, error) {
		return fiber.Map{"expired": true}, s.ExpireToken(r.Token)
	}))
}

// sandboxCall wraps one sandbox widget operation. What happens to input: body
// over 8 KiB: 413; not JSON or unknown fields: 400; an expired or unknown Link
// token: 401 (the widget then fires onTokenExpired); bad fields: 400; another
// user's account or upload: 404. Nothing is changed by a refused call; a
// repeated call is a new action (a second login, a second upload), as in Smile.
func (h *Handler) sandboxCall(op func(*sandbox.Simulator, sandboxRequest) (any, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if len(c.Body()) > maxSandboxBytes {
			return tooLarge("The request is too large.")
		}
		var in sandboxRequest
		if err := decodeStrict(c.Body(), &in); err != nil {
			return badRequest("Send one JSON object.", err)
		}
		sim := h.deps.Connect.Sandbox
		if sim.ReceiverURL() == "" {
			sim.SetReceiverURL(loopbackReceiver(c.Context().LocalAddr()))
		}
		out, err := op(sim, in)
		switch {
		case errors.Is(err, sandbox.ErrTokenExpired):
			return unauthorized("The Link token has expired.", err)
		case errors.Is(err, sandbox.ErrInvalid):
			return badRequest(strings.TrimPrefix(err.Error(), sandbox.ErrInvalid.Error()+": "), err)
		case errors.Is(err, sandbox.ErrNotYours):
			return notFound("There is no such account or upload for this user.")
		case err != nil:
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(out)
	}
}

// loopbackReceiver is our webhook receiver reached over loopback on the port
// this request came in on: the sandbox's webhooks must come from loopback, the
// only source sandbox mode admits besides Smile's own address.
func loopbackReceiver(local net.Addr) string {
	tcp, ok := local.(*net.TCPAddr)
	if !ok || tcp.Port == 0 {
		return ""
	}
	host := "127.0.0.1"
	if tcp.IP.IsLoopback() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port)) + webhookPath
}
