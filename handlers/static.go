package handlers

import (
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// serveStatic serves embedded assets. A request carrying the current content
// hash (?v=...) may be cached forever; any other is revalidated, so a stale
// cache can never serve old code under a new page.
func (h *Handler) serveStatic(c *fiber.Ctx) error {
	assets := h.deps.Assets
	name := path.Clean(strings.TrimPrefix(c.Params("*"), "/"))
	if name == "." || strings.HasPrefix(name, "..") {
		return notFound("There is no such file.")
	}
	b, err := fs.ReadFile(assets.FS(), name)
	if err != nil {
		return notFound("There is no such file.")
	}
	if v := c.Query("v"); v != "" && v == assets.Hash(name) {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderETag, `"`+assets.Hash(name)+`"`)
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(b)
}
