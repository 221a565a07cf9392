package handlers

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// maxTokenRequestBytes bounds POST /connect/:code/token: a session and a reason.
const maxTokenRequestBytes = 4 << 10

// tokenRequest is the body of POST /connect/:code/token.
type tokenRequest struct {
	Session string `json:"session"`
	// Reason is "expired" (after onTokenExpired) or "reopen" (the person
	// reopened the widget after closing it).
	Reason string `json:"reason"`
}

// tokenResponse is what the page gets back.
type tokenResponse struct {
	UserToken string    `json:"userToken"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// refreshConnectToken is POST /connect/:code/token: a fresh Link token for the
// widget after onTokenExpired, or to reopen it after onClose (tokens are
// single-use). What happens to input:
//   - body over 4 KiB: 413; not JSON or unknown fields: 400; unknown link: 404;
//   - missing, forged, expired or foreign session (or revoked link): 403,
//     nothing counted;
//   - reason other than "expired" or "reopen" (or empty, meaning "expired"): 400;
//   - repeated requests: each simply gets another token and is recorded, but
//     every token the link asks Smile for (page opens included) is first
//     counted, in one atomic statement shared by every replica, against
//     models.MaxTokensPerLink per models.TokenWindow; past it: 429 with
//     Retry-After and a JSON error, Smile is not called, and a link_throttled
//     action is recorded on the link's timeline once per burst;
//   - Smile unreachable: 503, the page may retry;
//   - otherwise Smile's POST /tokens is called for the session's user, a
//     token_refreshed action is recorded and the token returned.
func (h *Handler) refreshConnectToken(c *fiber.Ctx) error {
	ctx, now := c.UserContext(), h.now()
	if len(c.Body()) > maxTokenRequestBytes {
		return tooLarge("The request is too large.")
	}
	var in tokenRequest
	if err := decodeStrict(c.Body(), &in); err != nil {
		return badRequest(`Send {"session": "...", "reason": "expired"}.`, err)
	}
	l, ws, err := h.widgetSession(c, in.Session)
	if err != nil {
		return err
	}
	switch in.Reason {
	case "":
		in.Reason = "expired"
	case "expired", "reopen":
	default:
		return badRequest(`The reason must be "expired" or "reopen".`, fmt.Errorf("reason %.20q", in.Reason))
	}
	if err := h.throttleTokens(c, l, ws.ID); err != nil {
		return err
	}
	tok, err := h.deps.Connect.Smile.RefreshToken(ctx, ws.SmileUserID)
	if err != nil {
		return smileFailure(err)
	}
	detail := map[string]any{"reason": in.Reason, "token_expires_at": tok.ExpiresAt, "session_id": ws.ID}
	if err := h.connectStore().RecordLinkAction(ctx, l, models.ActionTokenRefreshed, "end user", now, detail); err != nil {
		return err
	}
	if err := h.connectStore().TouchWidgetSession(ctx, ws.ID, now); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(tokenResponse{UserToken: tok.AccessToken, ExpiresAt: tok.ExpiresAt})
}
