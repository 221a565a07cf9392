package handlers

import "github.com/gofiber/fiber/v2"

// apiRoutes registers the read-only JSON API under /api/v1.
func (h *Handler) apiRoutes(api fiber.Router) {}
