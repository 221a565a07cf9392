package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
)

// healthz answers while the process serves HTTP at all (liveness).
func (h *Handler) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 only when the database is reachable, every migration is
// applied and a write commits, so a load balancer sends no traffic to a
// replica that cannot store it. The answer names the reason with a fixed
// phrase only: the probe is unauthenticated, and the cause (addresses, driver
// messages) goes to the log.
func (h *Handler) readyz(c *fiber.Ctx) error {
	if h.deps.Ready == nil {
		return c.JSON(fiber.Map{"status": "ready"})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := h.deps.Ready(ctx); err != nil {
		h.log.Warn("Not ready", "error", err)
		reason := "not ready"
		if nr, ok := errors.AsType[*models.NotReadyError](err); ok {
			reason = nr.Reason
		}
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "not ready", "reason": reason})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
