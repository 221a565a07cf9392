package handlers

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// Error is a failure with the status and the plain-words message the client
// sees; Err, if any, is logged but never shown.
type Error struct {
	Status int
	Public string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Public, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Public)
}

// Unwrap exposes the cause to errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

func badRequest(public string, err error) error {
	return &Error{Status: fiber.StatusBadRequest, Public: public, Err: err}
}

func unauthorized(public string, err error) error {
	return &Error{Status: fiber.StatusUnauthorized, Public: public, Err: err}
}

func forbidden(public string, err error) error {
	return &Error{Status: fiber.StatusForbidden, Public: public, Err: err}
}

func notFound(public string) error {
	return &Error{Status: fiber.StatusNotFound, Public: public}
}

func tooLarge(public string) error {
	return &Error{Status: fiber.StatusRequestEntityTooLarge, Public: public}
}

func unavailable(public string, err error) error {
	return &Error{Status: fiber.StatusServiceUnavailable, Public: public, Err: err}
}

// msgBusy is what anyone is told when the database (or another service we
// depend on) is busy or cannot be reached.
const msgBusy = "This service is busy just now. Please try again in a minute."

// busyRetryAfter is the Retry-After, in seconds, of a 503 that does not set
// its own: long enough for a lock to clear or a database to restart.
const busyRetryAfter = "30"

// resolve turns any error into the status and public message to send. An
// error that means the store is busy or unreachable (models.IsUnavailable, a
// refused or dropped connection) is a 503: nothing is wrong with the request,
// and the same request may succeed shortly.
func resolve(err error) (int, string) {
	var e *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
		return e.Status, e.Public
	case errors.As(err, &fe):
		return fe.Code, fe.Message
	case errors.Is(err, models.ErrNotFound):
		return fiber.StatusNotFound, "Not found."
	case models.IsUnavailable(err) || isConnectionError(err):
		return fiber.StatusServiceUnavailable, msgBusy
	}
	return fiber.StatusInternalServerError, "Something went wrong on our side. It has been logged."
}

// errorHandler is the app's single error path: it resolves the status, logs once
// (5xx at Error with the full chain, 4xx at Warn), drops any partial body, and
// answers JSON for machine routes or a plain page for people.
func (h *Handler) errorHandler(c *fiber.Ctx, err error) error {
	status, public := resolve(err)
	// fasthttp calls this directly for what it refuses itself (a body over the
	// limit, headers too large, a read timeout): no middleware has run, and
	// for a chunked body over the limit it has already reset the request, so
	// the webhook is recognised from the note taken of its header.
	h.edge.secure(&c.Response().Header, c.Request().URI().Path())
	c.Set(fiber.HeaderCacheControl, "no-store")
	note, webhook := h.edge.takeNote(&c.Request().Header)
	if !webhook && c.Method() == fiber.MethodPost && isWebhookPath(c.Request().RequestURI()) {
		note, webhook = headerNote{forwardedFor: c.Get(fiber.HeaderXForwardedFor)}, true
	}
	if webhook && errors.Is(err, fiber.ErrRequestEntityTooLarge) {
		h.recordOversizedWebhook(c, note)
		public = publicReason[models.ReasonTooLarge]
	}
	attrs := []any{slog.Int("status", status), slog.String("method", c.Method()), slog.String("path", c.Path()), slog.Any("error", err)}
	if id, ok := c.Locals(localRequestID).(string); ok {
		attrs = append(attrs, slog.String("request_id", id))
	}
	switch {
	case status >= 500:
		h.log.Error("Request failed", attrs...)
	case status == fiber.StatusRequestTimeout:
		// A connection that sent nothing in time: under a flood of idle
		// connections a line each would flood the log too.
		h.log.Debug("Request timed out", attrs...)
	default:
		h.log.Warn("Request refused", attrs...)
	}
	c.Response().ResetBody()
	if status == fiber.StatusServiceUnavailable && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
		c.Set(fiber.HeaderRetryAfter, busyRetryAfter)
	}
	if webhook || machinePath(c) || wantsJSON(c) {
		return c.Status(status).JSON(fiber.Map{"error": public})
	}
	if h.renderErrorPage != nil {
		return h.renderErrorPage(c, status, public)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(status).SendString(public)
}

// isConnectionError reports whether err is a network failure reaching a
// backend (connection refused or reset), as a database that is down gives.
func isConnectionError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, driver.ErrBadConn)
}

// machinePath reports whether a request comes from a program rather than a
// person's browser tab: webhooks, the API, and the connect page's own posts.
func machinePath(c *fiber.Ctx) bool {
	path := strings.ToLower(c.Path())
	return strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/api/") ||
		c.Method() == fiber.MethodPost && strings.HasPrefix(path, "/connect/")
}

func wantsJSON(c *fiber.Ctx) bool {
	return strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) ||
		strings.Contains(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON)
}
