package handlers

import "github.com/gofiber/fiber/v2"

// linkAdminRoutes registers /admin/links: create, list, copy and revoke connect links.
func (h *Handler) linkAdminRoutes(admin fiber.Router) {}

// linkAPIRoutes registers connect links in the JSON API.
func (h *Handler) linkAPIRoutes(api fiber.Router) {}
