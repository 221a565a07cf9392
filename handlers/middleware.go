package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

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
