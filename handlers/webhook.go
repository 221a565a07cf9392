package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/ingest"
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
//     fasthttp refuses it before this handler runs, whether it came with a
//     Content-Length or chunked (see recordOversizedWebhook);
//   - a Content-Encoding other than identity: 415, a delivery record
//     (encoding_refused), no excerpt; the body is never inflated, so a small
//     gzip bomb costs only its compressed size;
//   - no Smile-Signature: 401, a delivery record (signature_missing), so a proxy
//     that strips the header shows up as such;
//   - a malformed or forged Smile-Signature: 401, a delivery record
//     (signature_mismatch) with a bounded excerpt, so a wrong secret can be debugged;
//   - signed but not an envelope with id, type and createdAt: 400, a delivery
//     record (bad_envelope) with an excerpt;
//   - valid: 200 {"status":"stored"} only once the event's row is committed
//     (the projector applies it to the projections behind); a duplicate id:
//     200 {"status":"duplicate"}, stored once, its delivery counted; unknown
//     types are stored like known ones;
//   - NUL in the body: a signed event with \u0000 in a text field is stored (200)
//     with its raw body byte for byte, its projected fields reading U+FFFD for
//     the NUL; a literal NUL byte is not JSON (400, or 401 if unsigned), and
//     rejection records store NUL and invalid UTF-8 as U+FFFD, so hostile
//     content never fails a commit;
//   - store cannot commit within the ingest timeout (ingest.DefaultIngestTimeout,
//     e.g. while a rebuild holds SQLite's writer connection): 503, so Smile
//     retries; nothing already stored is touched. 503 means only that.
//
// The allowlist and the size are checked before the body is looked at, and the
// signature is verified over exactly the bytes that are stored.
func (h *Handler) receiveWebhook(c *fiber.Ctx) error {
	received := h.now()
	cfg := h.deps.Webhooks
	ip := h.requestIP(c)
	// The bytes as they arrived. c.Body() would inflate a compressed body
	// (gzip, deflate, br) without any limit; it is never called here.
	raw := c.Request().Body()
	reject := func(status int, reason string, env *smile.Envelope, err error) error {
		r := ingest.Rejection{ReceivedAt: received, SourceIP: ip, Reason: reason, Status: status, BodyBytes: len(raw)}
		if keepsExcerpt(reason) {
			r.Excerpt = excerpt(raw)
		}
		if env != nil {
			r.EventID, r.EventType = env.ID, string(env.Type)
		}
		h.recordRejection(r)
		return &Error{Status: status, Public: publicReason[reason], Err: err}
	}
	if !cfg.AllowedIPs.Contains(ip) {
		return reject(fiber.StatusForbidden, models.ReasonIPRefused, nil, errors.New("source ip "+ip+" not in allowlist"))
	}
	if len(raw) > cfg.MaxBytes {
		return reject(fiber.StatusRequestEntityTooLarge, models.ReasonTooLarge, nil, nil)
	}
	if !identityEncoded(c) {
		return reject(fiber.StatusUnsupportedMediaType, models.ReasonEncodingRefused, nil,
			fmt.Errorf("content-encoding %.40q", c.Get(fiber.HeaderContentEncoding)))
	}
	secretIndex, err := smile.Verify(cfg.Secrets, raw, c.Get(smile.SignatureHeader))
	if errors.Is(err, smile.ErrSignatureMissing) {
		return reject(fiber.StatusUnauthorized, models.ReasonSignatureMissing, nil, err)
	}
	if err != nil {
		return reject(fiber.StatusUnauthorized, models.ReasonSignatureMismatch, nil, err)
	}
	env, err := smile.ParseEnvelope(raw)
	if err != nil {
		return reject(fiber.StatusBadRequest, models.ReasonBadEnvelope, nil, err)
	}
	// fasthttp reuses the request buffer once the handler returns; the writer
	// keeps the body, so it gets its own copy.
	in := &ingest.Incoming{Envelope: env, Body: bytes.Clone(raw), SourceIP: ip, SecretIndex: secretIndex, ReceivedAt: received}
	result, err := h.deps.Ingester.Submit(c.UserContext(), in)
	if err != nil {
		return reject(fiber.StatusServiceUnavailable, models.ReasonStoreUnavailable, &env, err)
	}
	h.deps.Metrics.latency.Observe(time.Since(received).Seconds())
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if result == ingest.Duplicate {
		h.deps.Metrics.delivery(env.Type, models.OutcomeDuplicate)
		h.log.Debug("Duplicate webhook", slog.String("event_id", env.ID), slog.String("source", ip))
		return c.Send(replyDuplicate)
	}
	h.deps.Metrics.delivery(env.Type, "stored")
	return c.Send(replyStored)
}

// requestIP is the client address of a request (see ClientIP). The result is
// the handler's own string: it may be kept after the handler returns.
func (h *Handler) requestIP(c *fiber.Ctx) string {
	return ClientIP(c.Context().RemoteIP().String(), c.Get(fiber.HeaderXForwardedFor), h.deps.Webhooks.TrustedProxies)
}

// recordRejection hands a refused attempt to the writer, counting it either way.
func (h *Handler) recordRejection(r ingest.Rejection) {
	if !h.deps.Ingester.Reject(r) {
		h.deps.Metrics.dropped.Inc()
	}
	h.deps.Metrics.delivery("", r.Reason)
}

// keepsExcerpt reports whether a refused body is worth keeping the start of:
// not when it was never examined (refused address, too large) or is not text
// (compressed).
func keepsExcerpt(reason string) bool {
	switch reason {
	case models.ReasonIPRefused, models.ReasonTooLarge, models.ReasonEncodingRefused:
		return false
	}
	return true
}

// publicReason is what Smile (or whoever called) is told, in plain words.
var publicReason = map[string]string{
	models.ReasonIPRefused:         "This address may not send webhooks.",
	models.ReasonTooLarge:          "The webhook body is larger than this server accepts.",
	models.ReasonSignatureMissing:  "The Smile-Signature header is missing.",
	models.ReasonSignatureMismatch: "The Smile-Signature header is malformed or does not match any webhook secret.",
	models.ReasonEncodingRefused:   "Send the body uncompressed: Content-Encoding is not accepted.",
	models.ReasonBadEnvelope:       "The body is not a Smile webhook: it needs id, type and createdAt.",
	models.ReasonStoreUnavailable:  "The event could not be stored right now. Please retry.",
}

// excerpt keeps the start of a rejected body as valid UTF-8 text.
func excerpt(body []byte) string {
	if len(body) > excerptBytes {
		body = body[:excerptBytes]
	}
	// NUL is replaced too: PostgreSQL text cannot hold it.
	return strings.ReplaceAll(strings.ToValidUTF8(string(body), "?"), "\x00", "?")
}

// recordOversizedWebhook notes a webhook fasthttp refused before any handler ran
// because it was over the app's body limit, sent with a Content-Length or
// chunked. For a chunked body fasthttp has reset the request, so the
// X-Forwarded-For comes from the note taken of its header, and the size is
// recorded as one byte over the limit: all that is known is that it was larger.
func (h *Handler) recordOversizedWebhook(c *fiber.Ctx, note headerNote) {
	size := c.Request().Header.ContentLength()
	if size <= 0 {
		size = bodyLimit(h.deps.Webhooks.MaxBytes) + 1
	}
	h.recordRejection(ingest.Rejection{
		ReceivedAt: h.now(), Reason: models.ReasonTooLarge, Status: fiber.StatusRequestEntityTooLarge, BodyBytes: size,
		SourceIP: ClientIP(c.Context().RemoteIP().String(), note.forwardedFor, h.deps.Webhooks.TrustedProxies),
	})
}
