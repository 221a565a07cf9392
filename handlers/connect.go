package handlers

import "github.com/gofiber/fiber/v2"

// ConnectDeps is what the connect flow needs (links, the Smile client, widget sessions).
type ConnectDeps struct{}

// connectRoutes registers the end user's connect pages and their callbacks.
func (h *Handler) connectRoutes(app *fiber.App) {}
