package handlers

import (
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"smiledash/views"
)

// render is the only way handlers send HTML: it sets the content type and status
// and renders the component with the request's context (CSP nonce, CSRF token).
func render(c *fiber.Ctx, status int, component templ.Component) error {
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return component.Render(c.UserContext(), c.Response().BodyWriter())
}

// isHTMX reports whether htmx sent the request, so a fragment is enough.
func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }

// base builds the page shell every page embeds.
func (h *Handler) base(title string) views.BaseVM {
	return views.BaseVM{Title: title, CSSURL: h.deps.Assets.URL("css/app.css"), IconURL: h.deps.Assets.URL("favicon.svg")}
}

// errorPage renders the plain error page for people.
func (h *Handler) errorPage(c *fiber.Ctx, status int, public string) error {
	return render(c, status, views.ErrorPage(views.ErrorPageVM{BaseVM: h.base("Error"), Status: status, Message: public,
		EndUser: strings.HasPrefix(c.Path(), "/connect/")}))
}
