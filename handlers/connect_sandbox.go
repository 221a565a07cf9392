package handlers

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// serveSandbox is ALL /sandbox/*, the sandbox sub-app: the fake Smile REST API
// and what the sandbox widget calls (smile/sandbox builds it; cmd passes it in
// sandbox mode only, so outside it no /sandbox route exists and this package
// never depends on the simulator). The sub-app answers for itself, with
// Smile's envelope on the API and JSON errors on the widget calls; what it does
// with oversized, malformed, forged or repeated input is written on
// sandbox.Simulator.Handler. It learns our loopback address from the request,
// to send its webhooks to our own receiver.
func (h *Handler) serveSandbox() fiber.Handler {
	sub := adaptor.HTTPHandler(h.deps.Connect.Sandbox)
	return func(c *fiber.Ctx) error {
		c.Context().SetUserValue(http.LocalAddrContextKey, c.Context().LocalAddr())
		return sub(c)
	}
}
