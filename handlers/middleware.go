package handlers

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

const localRequestID = "request_id"

// requestIDs makes short unique request ids cheaply: a random per-process
// prefix and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (r *requestIDs) next() string {
	return r.prefix + "-" + strconv.FormatUint(r.n.Add(1), 36)
}

// requestLog gives each request an id and writes one access line. Successful
// webhooks are logged at Debug: at thousands per second they belong in metrics.
func (h *Handler) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	id := h.requestIDs.next()
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if strings.HasPrefix(c.Path(), "/webhooks/") && status < 300 || c.Path() == "/metrics" || c.Path() == "/healthz" {
		level = slog.LevelDebug
	}
	if h.log.Enabled(c.UserContext(), level) {
		h.log.Log(c.UserContext(), level, "Request",
			slog.String("request_id", id), slog.String("method", c.Method()), slog.String("path", c.Path()),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)))
	}
	return nil
}

// refuseHostileInput refuses, on every route and before any handler reads the
// request, what no route can take safely:
//   - a body with a Content-Encoding other than identity: 415. Fiber's
//     c.Body() would inflate gzip, deflate or br without a limit, so a 255 KB
//     gzip bomb would become 256 MiB. The webhook route is left to its handler,
//     which refuses the same way after the allowlist and records a delivery.
//   - a NUL byte or invalid UTF-8 in a query parameter or a form field
//     (decoded): 400. PostgreSQL text can hold neither, so they would
//     otherwise reach a query and fail there as a 500. (Route parameters are
//     not decoded: "%00" in a path stays those three characters, an unknown
//     id or code.)
func refuseHostileInput(c *fiber.Ctx) error {
	req := c.Request()
	if !identityEncoded(c) && !isWebhookPath(req.RequestURI()) {
		return &Error{Status: fiber.StatusUnsupportedMediaType, Public: msgEncodingRefused}
	}
	if field, problem, ok := unstorableField(c); ok {
		return badRequest("The request contains "+problem+" in "+field+"; remove it and try again.", nil)
	}
	return c.Next()
}

const msgEncodingRefused = "Send the body uncompressed: Content-Encoding is not accepted here."

// identityEncoded reports whether every Content-Encoding header of the request
// (there may be several) is identity or empty.
func identityEncoded(c *fiber.Ctx) bool {
	ok := true
	c.Request().Header.VisitAll(func(key, value []byte) {
		if !ok || !bytes.EqualFold(key, []byte(fiber.HeaderContentEncoding)) {
			return
		}
		for _, coding := range bytes.Split(value, []byte(",")) {
			if coding = bytes.TrimSpace(coding); len(coding) > 0 && !bytes.EqualFold(coding, []byte("identity")) {
				ok = false
			}
		}
	})
	return ok
}

// unstorableField names where a request carries text PostgreSQL cannot
// store, and what is wrong with it, if it does: a query parameter, or a field
// of a form post (urlencoded or multipart).
func unstorableField(c *fiber.Ctx) (field, problem string, ok bool) {
	req := c.Request()
	if name, problem, ok := unstorableArg(c.Context().QueryArgs()); ok {
		return "the query parameter " + name, problem, true
	}
	if c.Method() != fiber.MethodPost {
		return "", "", false
	}
	switch {
	case bytes.HasPrefix(req.Header.ContentType(), []byte(fiber.MIMEApplicationForm)):
		if name, problem, ok := unstorableArg(c.Context().PostArgs()); ok {
			return "the form field " + name, problem, true
		}
	case bytes.HasPrefix(req.Header.ContentType(), []byte(fiber.MIMEMultipartForm)):
		form, err := c.MultipartForm()
		if err != nil {
			return "", "", false // the handler reports the malformed form
		}
		for name, values := range form.Value {
			for _, v := range values {
				if problem, ok := unstorable([]byte(name), []byte(v)); ok {
					return "the form field " + fieldName(name), problem, true
				}
			}
		}
	}
	return "", "", false
}

// unstorableArg finds a parameter whose name or value PostgreSQL cannot store.
func unstorableArg(args interface {
	VisitAll(func(key, value []byte))
}) (name, problem string, ok bool) {
	args.VisitAll(func(key, value []byte) {
		if !ok {
			if problem, ok = unstorable(key, value); ok {
				name = fieldName(string(key))
			}
		}
	})
	return name, problem, ok
}

// unstorable says what makes a parameter's name or value unfit for
// PostgreSQL text: a NUL byte, or bytes that are not UTF-8.
func unstorable(key, value []byte) (string, bool) {
	switch {
	case bytes.IndexByte(key, 0) >= 0 || bytes.IndexByte(value, 0) >= 0:
		return "a NUL character (%00)", true
	case !utf8.Valid(key) || !utf8.Valid(value):
		return "bytes that are not UTF-8 text", true
	}
	return "", false
}

// fieldName quotes a parameter name for a message, safely.
func fieldName(name string) string {
	return strconv.Quote(truncate(strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), ""), 40))
}
