package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/views"
)

// LinkStore is what the connect-link pages and API need of the store.
type LinkStore interface {
	CreateLink(ctx context.Context, in models.NewLink) (models.Link, error)
	LinkByID(ctx context.Context, id int64) (models.Link, error)
	Links(ctx context.Context, beforeID int64, limit int) ([]models.Link, error)
	RevokeLink(ctx context.Context, id int64, actor string, now time.Time) (models.Link, error)
}

var _ LinkStore = (*models.Store)(nil)

func (h *Handler) linkStore() LinkStore { return h.deps.Stores.Links }

// linksPageSize is how many links a page or API call lists.
const linksPageSize = 50

// expiryChoices are the expiry options of the create form; "" never expires.
var expiryChoices = []views.Choice{
	{Value: "24h", Label: "in 1 day"}, {Value: "72h", Label: "in 3 days"}, {Value: "168h", Label: "in 7 days"},
	{Value: "720h", Label: "in 30 days"}, {Value: "", Label: "never"},
}

// listLinks is GET /admin/links[?before=ID][&created=ID]: newest first, with
// the create form; created highlights a link just made so it can be copied.
// A malformed before or created is 400.
func (h *Handler) listLinks(c *fiber.Ctx) error {
	before, err := queryInt64(c, "before")
	if err != nil {
		return err
	}
	created, err := queryInt64(c, "created")
	if err != nil {
		return err
	}
	vm, err := h.linksPageVM(c, before, views.LinkFormVM{Expires: "72h"})
	if err != nil {
		return err
	}
	if created > 0 {
		l, err := h.linkStore().LinkByID(c.UserContext(), created)
		if err == nil {
			row := h.linkRow(l)
			vm.Created = &row
		}
	}
	return render(c, fiber.StatusOK, views.LinksPage(vm))
}

// createLink is POST /admin/links (form fields external_ref, label, expires).
// Invalid or oversized fields re-render the form with the errors and 422,
// storing nothing; a missing or forged CSRF token or a viewer's session is
// refused with 403 before this runs (requireSignIn, requireRole); success
// stores the link (and a link_created action) and redirects 303 to the list
// showing the new link's URL. A repeated submission creates another link:
// links are cheap and each has its own code.
func (h *Handler) createLink(c *fiber.Ctx) error {
	form := views.LinkFormVM{
		ExternalRef: strings.TrimSpace(c.FormValue("external_ref")),
		Label:       strings.TrimSpace(c.FormValue("label")),
		Expires:     c.FormValue("expires"),
	}
	lv := h.pageLayout(c, "Connect links", "links")
	in, errs := h.newLinkFrom(form.ExternalRef, form.Label, form.Expires, actorOr(lv.AdminEmail, "admin"))
	if len(errs) == 0 {
		l, err := h.linkStore().CreateLink(c.UserContext(), in)
		if err != nil {
			return err
		}
		h.audit(c, models.AuditEntry{Action: models.AuditLinkCreated, Target: linkTarget(l.ID)})
		return c.Redirect("/admin/links?created="+strconv.FormatInt(l.ID, 10), fiber.StatusSeeOther)
	}
	form.Errors = errs
	vm, err := h.linksPageVM(c, 0, form)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusUnprocessableEntity, views.LinksPage(vm))
}

// revokeLink is POST /admin/links/:id/revoke: 303 back to the list. A bad id is
// 400, an unknown one 404, a forged CSRF token or a viewer 403; revoking a
// revoked link (a double submit) changes nothing and records nothing.
func (h *Handler) revokeLink(c *fiber.Ctx) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	lv := h.pageLayout(c, "Connect links", "links")
	if _, err := h.linkStore().RevokeLink(c.UserContext(), id, actorOr(lv.AdminEmail, "admin"), h.now()); err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditLinkRevoked, Target: linkTarget(id)})
	return c.Redirect("/admin/links", fiber.StatusSeeOther)
}

func (h *Handler) linksPageVM(c *fiber.Ctx, before int64, form views.LinkFormVM) (views.LinksPageVM, error) {
	links, err := h.linkStore().Links(c.UserContext(), before, linksPageSize+1)
	if err != nil {
		return views.LinksPageVM{}, err
	}
	lv := h.pageLayout(c, "Connect links", "links")
	lv.Scripts = append(lv.Scripts, h.deps.Assets.URL("js/links.js"))
	form.ExpiryChoices = expiryChoices
	vm := views.LinksPageVM{LayoutVM: lv, Form: form, CanManage: lv.Role != RoleViewer}
	if len(links) > linksPageSize {
		links = links[:linksPageSize]
		vm.OlderURL = "/admin/links?before=" + strconv.FormatInt(links[len(links)-1].ID, 10)
	}
	for _, l := range links {
		vm.Links = append(vm.Links, h.linkRow(l))
	}
	return vm, nil
}

// linkRow is one link as pages show it; times are UTC, to the minute.
func (h *Handler) linkRow(l models.Link) views.LinkRowVM {
	row := views.LinkRowVM{
		ID: l.ID, URL: h.linkURL(l), ExternalRef: l.ExternalRef, Label: l.Label, State: l.State(h.now()),
		SmileUserID: l.SmileUserID, CreatedAt: shortTime(&l.CreatedAt), CreatedBy: l.CreatedBy,
		ExpiresAt: shortTime(l.ExpiresAt), OpenCount: l.OpenCount, LastOpened: shortTime(l.LastOpenedAt),
		RevokeURL: "/admin/links/" + strconv.FormatInt(l.ID, 10) + "/revoke",
	}
	if l.SmileUserID != "" {
		row.UserHref = "/admin/users/" + url.PathEscape(l.SmileUserID)
	}
	return row
}

// linkURL is the address a person opens.
func (h *Handler) linkURL(l models.Link) string {
	return strings.TrimRight(h.deps.Connect.PublicURL, "/") + "/connect/" + l.Code
}

// newLinkFrom validates create-link input from the form or the API; expires
// is a Go duration ("72h") or empty for never. It returns field errors.
func (h *Handler) newLinkFrom(ref, label, expires, actor string) (models.NewLink, map[string]string) {
	now := h.now()
	in := models.NewLink{ExternalRef: ref, Label: label, CreatedBy: actor, Now: now}
	errs := models.ValidateNewLink(in)
	if expires != "" {
		d, err := time.ParseDuration(expires)
		switch {
		case err != nil || d <= 0:
			errs["expires"] = `Give the expiry as a duration such as "72h", or leave it empty for never.`
		case d > 366*24*time.Hour:
			errs["expires"] = "Choose an expiry within a year."
		default:
			at := now.Add(d)
			in.ExpiresAt = &at
		}
	}
	return in, errs
}

func actorOr(actor, fallback string) string {
	if actor == "" {
		return fallback
	}
	return actor
}

// shortTime formats a time for tables: UTC, to the minute; nil is "".
func shortTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// paramID parses the :id route parameter: 400 unless a positive integer.
func paramID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("The id must be a positive whole number.", fmt.Errorf("id %.20q", c.Params("id")))
	}
	return id, nil
}

// queryInt64 parses an optional positive integer query parameter (0 if absent).
func queryInt64(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, badRequest(fmt.Sprintf("The %s parameter must be a positive whole number.", name), errors.New(name+" malformed"))
	}
	return n, nil
}
