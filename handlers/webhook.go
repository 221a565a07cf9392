package handlers

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
)

// excerptBytes bounds how much of a rejected body is kept for debugging.
const excerptBytes = 512

var (
	replyStored    = []byte(`{"status":"stored"}`)
	replyDuplicate = []byte(`{"status":"duplicate"}`)
)

// receiveWebhook is POST /webhooks/smile. What happens to each kind of input:
//   - source IP not allowed: 403, nothing stored, a delivery record (ip_refused);
//   - body over the limit: 413, a delivery record (too_large), no excerpt kept;
//   - no, malformed or forged Smile-Signature: 401, a delivery record
//     (bad_signature) with a bounded excerpt, so a wrong secret can be debugged;
//   - signed but not an envelope with id, type and createdAt: 400, a delivery
//     record (bad_envelope) with an excerpt;
//   - valid: 200 {"status":"stored"} only once the event and its projections are
//     committed; a duplicate id: 200 {"status":"duplicate"}, stored once, its
//     delivery counted; unknown types are stored like known ones;
//   - NUL in the body: a signed event with \u0000 in a text field is stored (200)
//     with its raw body byte for byte, its projected fields reading U+FFFD for
//     the NUL; a literal NUL byte is not JSON (400, or 401 if unsigned), and
//     rejection records store NUL and invalid UTF-8 as U+FFFD, so hostile
//     content never fails a commit;
//   - store cannot commit within the ingest timeout (models.DefaultIngestTimeout,
//     e.g. while a rebuild or another replica holds the writer): 503, so Smile
//     retries; nothing already stored is touched. 503 means only that.
func (h *Handler) receiveWebhook(c *fiber.Ctx) error {
	received := h.now()
	cfg := h.deps.Webhooks
	ip := ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), cfg.TrustedProxies)
	raw := c.Body()
	reject := func(status int, reason string, env *smile.Envelope, err error) error {
		r := models.Rejection{ReceivedAt: received, SourceIP: ip, Reason: reason, Status: status, BodyBytes: len(raw)}
		if reason != models.ReasonTooLarge && reason != models.ReasonIPRefused {
			r.Excerpt = excerpt(raw)
		}
		if env != nil {
			r.EventID, r.EventType = env.ID, string(env.Type)
		}
		if !h.deps.Ingester.Reject(r) {
			h.deps.Metrics.dropped.Inc()
		}
		h.deps.Metrics.delivery("", reason)
		return &Error{Status: status, Public: publicReason[reason], Err: err}
	}
	if !cfg.AllowedIPs.Contains(ip) {
		return reject(fiber.StatusForbidden, models.ReasonIPRefused, nil, errors.New("source ip "+ip+" not in allowlist"))
	}
	if len(raw) > cfg.MaxBytes {
		return reject(fiber.StatusRequestEntityTooLarge, models.ReasonTooLarge, nil, nil)
	}
	secretIndex, err := smile.Verify(cfg.Secrets, raw, c.Get(smile.SignatureHeader))
	if err != nil {
		return reject(fiber.StatusUnauthorized, models.ReasonBadSignature, nil, err)
	}
	env, err := smile.ParseEnvelope(raw)
	if err != nil {
		return reject(fiber.StatusBadRequest, models.ReasonBadEnvelope, nil, err)
	}
	// fasthttp reuses the request buffer once the handler returns; the writer
	// keeps the body, so it gets its own copy.
	in := &models.Incoming{Envelope: env, Body: bytes.Clone(raw), SourceIP: ip, SecretIndex: secretIndex, ReceivedAt: received}
	result, err := h.deps.Ingester.Submit(c.UserContext(), in)
	if err != nil {
		return reject(fiber.StatusServiceUnavailable, models.ReasonStoreUnavailable, &env, err)
	}
	h.deps.Metrics.latency.Observe(time.Since(received).Seconds())
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if result == models.Duplicate {
		h.deps.Metrics.delivery(env.Type, models.OutcomeDuplicate)
		h.log.Debug("Duplicate webhook", slog.String("event_id", env.ID), slog.String("source", ip))
		return c.Send(replyDuplicate)
	}
	h.deps.Metrics.delivery(env.Type, "stored")
	return c.Send(replyStored)
}

// publicReason is what Smile (or whoever called) is told, in plain words.
var publicReason = map[string]string{
	models.ReasonIPRefused:        "This address may not send webhooks.",
	models.ReasonTooLarge:         "The webhook body is larger than this server accepts.",
	models.ReasonBadSignature:     "The Smile-Signature header is missing or does not match.",
	models.ReasonBadEnvelope:      "The body is not a Smile webhook: it needs id, type and createdAt.",
	models.ReasonStoreUnavailable: "The event could not be stored right now. Please retry.",
}

// excerpt keeps the start of a rejected body as valid UTF-8 text.
func excerpt(body []byte) string {
	if len(body) > excerptBytes {
		body = body[:excerptBytes]
	}
	return strings.ToValidUTF8(string(body), "?")
}

// recordOversizedWebhook notes a webhook fasthttp refused before any handler ran
// because it was over the app's body limit.
func (h *Handler) recordOversizedWebhook(c *fiber.Ctx) {
	ip := ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), h.deps.Webhooks.TrustedProxies)
	r := models.Rejection{
		ReceivedAt: h.now(), SourceIP: ip, Reason: models.ReasonTooLarge, Status: fiber.StatusRequestEntityTooLarge,
		BodyBytes: c.Request().Header.ContentLength(),
	}
	if !h.deps.Ingester.Reject(r) {
		h.deps.Metrics.dropped.Inc()
	}
	h.deps.Metrics.delivery("", models.ReasonTooLarge)
}
