package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
)

// Limits on what a connect page may post.
const (
	// MaxCallbackBytes bounds one callback post. The largest documented
	// argument (onUploadsCreated with several archives) is a few KiB.
	MaxCallbackBytes = 64 << 10
	maxUserAgentLen  = 512
)

// callbackPost is the body of POST /connect/:code/events.
type callbackPost struct {
	Callback string          `json:"callback"`
	Args     json.RawMessage `json:"args"`
	Session  string          `json:"session"`
}

// receiveCallback is POST /connect/:code/events: one widget callback, posted by
// connect.js as {"callback":"…","args":…,"session":"…"}. What happens to input:
//   - body over MaxCallbackBytes: 413, nothing stored;
//   - not JSON, not that object, or unknown fields: 400, nothing stored;
//   - unknown link code: 404, nothing stored;
//   - missing, forged, expired session, or one of another link (or of a revoked
//     link): 403, nothing stored and nothing counted;
//   - too many: every post with a valid session is counted, before its
//     callback is checked, against models.MaxCallbacksPerSession per minute
//     for its page, models.MaxCallbacksPerLink per minute for the link and
//     models.MaxCallbackBytesPerLink bytes per day for the link, each in one
//     atomic statement shared by every replica. Past a limit: 429 with
//     Retry-After (seconds to the window's end) and a JSON error, nothing
//     stored, and a link_throttled action on the link's timeline once per
//     burst (the first refusal of each limit's window), not per request;
//   - a callback name Smile does not document, or args of the wrong shape or
//     over the field limits: 400, nothing stored;
//   - args.userId that is not the session's Smile user: 403, nothing stored;
//   - otherwise 204, stored as a callback with the raw args as given, the
//     account id when present, the client IP and user agent. A duplicate post
//     is stored again (and counted): callbacks carry no id, and as browser
//     claims they never move account state, so a repeat is harmless. Nothing
//     stored before is ever touched.
//
// onClose's three calling conventions ({reason}, "reason", no argument) are
// all accepted and stored as given (no argument as null).
func (h *Handler) receiveCallback(c *fiber.Ctx) error {
	ctx, now := c.UserContext(), h.now()
	if len(c.Body()) > MaxCallbackBytes {
		return tooLarge(fmt.Sprintf("A callback may be at most %d KiB.", MaxCallbackBytes>>10))
	}
	var in callbackPost
	if err := decodeStrict(c.Body(), &in); err != nil {
		return badRequest(`Send one JSON object: {"callback": "...", "args": ..., "session": "..."}.`, err)
	}
	l, ws, err := h.widgetSession(c, in.Session)
	if err != nil {
		return err
	}
	v, err := h.connectStore().TakeCallback(ctx, l, ws.ID, len(c.Body()), now)
	if err != nil {
		return unavailable("The callback could not be stored right now. Please retry.", err)
	}
	if err := throttled(c, l, v, "This page sent too many updates in a short time. Please wait a moment; nothing is lost by waiting."); err != nil {
		return err
	}
	name := smile.Callback(in.Callback)
	if !name.Known() {
		return badRequest("Unknown callback name.", fmt.Errorf("callback %.40q", in.Callback))
	}
	claim, err := checkCallbackArgs(name, in.Args)
	if err != nil {
		return badRequest("The callback arguments are not what the widget sends: "+err.Error(), err)
	}
	if claim.userID != "" && claim.userID != ws.SmileUserID {
		return forbidden("This callback is about another user.", errors.New("args.userId does not match the session's Smile user"))
	}
	args := in.Args
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("null")
	}
	linkID := l.ID
	cb := &models.Callback{
		ReceivedAt: now, UserKey: ws.UserKey, LinkID: &linkID, Name: string(name), AccountID: claim.accountID,
		SourceIP:  ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), h.deps.Webhooks.TrustedProxies),
		UserAgent: truncate(strings.ToValidUTF8(c.Get(fiber.HeaderUserAgent), "?"), maxUserAgentLen),
		Args:      bytes.Clone(args),
	}
	store := h.connectStore()
	if err := store.CreateCallback(ctx, cb); err != nil {
		return unavailable("The callback could not be stored right now. Please retry.", err)
	}
	if err := store.TouchWidgetSession(ctx, ws.ID, now); err != nil {
		h.log.Warn("Widget session not touched", slog.Int64("session_id", ws.ID), slog.Any("error", err))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// widgetSession finds the link of the URL and checks the page's session
// against it: 404 for an unknown code, 403 for any session that may not act for
// that link now. Unlike the page, an expired link does not end a session that
// is still valid: the person started in time.
func (h *Handler) widgetSession(c *fiber.Ctx, token string) (models.Link, models.WidgetSession, error) {
	code := c.Params("code")
	if code == "" || len(code) > 64 {
		return models.Link{}, models.WidgetSession{}, notFound(msgNoSuchLink)
	}
	store := h.connectStore()
	l, err := store.LinkByCode(c.UserContext(), code)
	if errors.Is(err, models.ErrNotFound) {
		return l, models.WidgetSession{}, notFound(msgNoSuchLink)
	}
	if err != nil {
		return l, models.WidgetSession{}, err
	}
	ws, err := store.CheckWidgetSession(c.UserContext(), token, l, h.now())
	for _, refused := range []error{models.ErrSessionUnknown, models.ErrSessionExpired, models.ErrSessionForeign, models.ErrSessionRevoked} {
		if errors.Is(err, refused) {
			return l, ws, forbidden(msgSessionRefuse, err)
		}
	}
	return l, ws, err
}

// decodeStrict decodes exactly one JSON object with no unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a rune; s is valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
