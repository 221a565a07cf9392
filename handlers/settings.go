package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// WebhookRegistrar manages our webhook registration at Smile (smile.Client).
type WebhookRegistrar interface {
	RegisterWebhook(ctx context.Context, req smile.WebhookRequest) (smile.WebhookRegistration, error)
	AllWebhooks(ctx context.Context) ([]smile.Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
}

var _ WebhookRegistrar = (*smile.Client)(nil)

// smileListTimeout bounds asking Smile for its registrations while a page
// renders: the settings page must open even when Smile is slow.
const smileListTimeout = 10 * time.Second

// webhookName is the name our registrations carry at Smile; SortWebhooks
// recognises our registrations at other URLs by it.
const webhookName = "smiledash"

// showSettings is GET /admin/settings (admin role). With Smile credentials it
// also lists Smile's registrations; if Smile cannot be asked the page still
// renders and says so.
func (h *Handler) showSettings(c *fiber.Ctx) error {
	vm, err := h.settingsVM(c)
	if err != nil {
		return err
	}
	vm.Notice = settingsNotice(c)
	if h.deps.Pages.Registrar != nil {
		vm.Registrations = h.registrationsVM(c.UserContext())
	}
	return render(c, fiber.StatusOK, views.SettingsPage(vm))
}

func (h *Handler) settingsVM(c *fiber.Ctx) (views.SettingsPageVM, error) {
	s := h.deps.Pages.Settings
	vm := views.SettingsPageVM{
		LayoutVM: h.pageLayout(c, "Settings", "settings"), WebhookURL: s.WebhookURL, AllowedIPs: s.AllowedIPs, Mode: "production",
		ReprojectURL: "/admin/settings/reproject",
	}
	if s.Sandbox {
		vm.Mode = "sandbox (Smile is simulated; no API key set)"
		if len(s.Secrets) > 0 {
			vm.SandboxSecret = s.Secrets[0]
		}
		vm.Scripts = append(vm.Scripts, h.deps.Assets.URL("js/settings.js"))
	}
	latest, ok, err := h.pages().LatestSecretIndex(c.UserContext())
	if err != nil {
		return vm, err
	}
	for i, secret := range s.Secrets {
		vm.Secrets = append(vm.Secrets, views.SecretVM{Index: i, Masked: views.MaskSecret(secret), Current: i == 0, VerifiedLatest: ok && latest == i})
	}
	if ok {
		vm.LatestVerified = secretLabel(latest)
	}
	switch {
	case h.deps.Pages.Registrar == nil && s.Sandbox:
		vm.RegisterNote = "Nothing to register in the sandbox: the simulated Smile already sends its webhooks here, signed with the sandbox secret. With SMILE_API_KEY and SMILE_API_SECRET set, this registers the webhook with Smile."
	case h.deps.Pages.Registrar == nil:
		vm.RegisterNote = "Set SMILE_API_KEY and SMILE_API_SECRET to register the webhook from here; until then, add it in Smile's developer portal with the URL and current secret above."
	case len(s.Secrets) == 0:
		vm.RegisterNote = "No webhook secret is configured."
	default:
		vm.RegisterURL = "/admin/settings/webhook"
	}
	return vm, nil
}

// settingsNotice is the message after a redirect back to the page. The
// query only picks a sentence; ids are shown as text, never as markup.
func settingsNotice(c *fiber.Ctx) string {
	id := c.Query("registered")
	switch {
	case id != "" && c.Query("outcome") == string(smile.WebhookUnchanged):
		return "Smile already had this webhook registered with the current secret (id " + id + "); nothing changed."
	case id != "" && c.Query("outcome") == string(smile.WebhookReplaced):
		msg := "Smile's registration " + c.Query("replaced") + " had another secret or settings. It was replaced by " + id +
			" with the current secret (Smile cannot edit a registration, so the new one was created first)."
		if c.Query("old") == "kept" {
			msg += " The old one could not be deleted; it is listed below under Left behind."
		}
		return msg
	case id != "":
		return "Smile registered the webhook (id " + id + "). New events will arrive at the URL above."
	case c.Query("deleted") != "":
		return "Smile's registration " + c.Query("deleted") + " was deleted; Smile no longer delivers to it."
	case c.Query("reprojecting") == "started":
		return "Rebuilding every projection from the stored events in the background. It takes about half a minute per million events; a \"reprojected\" action is recorded when it is done."
	case c.Query("reprojecting") == "already":
		return "A rebuild is already running; a \"reprojected\" action is recorded when it is done."
	}
	return ""
}

// wantedWebhook is the registration we ask Smile for: every event type, to
// our URL, signed with the current secret.
func (h *Handler) wantedWebhook() smile.WebhookRequest {
	s := h.deps.Pages.Settings
	req := smile.WebhookRequest{Name: webhookName, URL: s.WebhookURL, EventTypes: []string{"ALL_EVENTS"}, Active: true}
	if len(s.Secrets) > 0 {
		req.Secret = s.Secrets[0]
	}
	return req
}

// webhookSet asks Smile for its registrations and sorts them relative to ours.
func (h *Handler) webhookSet(ctx context.Context) (smile.WebhookSet, error) {
	ctx, cancel := context.WithTimeout(ctx, smileListTimeout)
	defer cancel()
	hooks, err := h.deps.Pages.Registrar.AllWebhooks(ctx)
	if err != nil {
		return smile.WebhookSet{}, err
	}
	return smile.SortWebhooks(hooks, h.wantedWebhook()), nil
}

func (h *Handler) registrationsVM(ctx context.Context) *views.RegistrationsVM {
	set, err := h.webhookSet(ctx)
	if err != nil {
		h.log.Warn("Listing Smile's webhook registrations failed", slog.Any("error", err))
		return &views.RegistrationsVM{Problem: "Smile's registrations could not be listed: " + registerProblem(err)}
	}
	vm := &views.RegistrationsVM{UpToDate: set.UpToDate, Others: len(set.Others)}
	if set.Current != nil {
		w := webhookVM(*set.Current)
		vm.Current = &w
	}
	for _, s := range set.Stale {
		w := webhookVM(s.Webhook)
		w.Why = "another registration for this same URL: Smile delivers every event once per registration"
		if s.Reason == smile.StaleOtherURL {
			w.Why = "ours, at another URL: an earlier address of this dashboard, or another smiledash"
		}
		w.DeleteURL = "/admin/settings/webhooks/" + url.PathEscape(s.Webhook.ID) + "/delete"
		vm.Stale = append(vm.Stale, w)
	}
	return vm
}

func webhookVM(w smile.Webhook) views.WebhookVM {
	return views.WebhookVM{ID: w.ID, Name: w.Name, URL: w.URL, EventTypes: strings.Join(w.EventTypes, ", "), Active: w.Active,
		Created: w.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")}
}

// registerWebhook is POST /admin/settings/webhook (admin role): make Smile
// send every event type here, signed with the current secret, updating the
// registration Smile has for our URL rather than adding one (see
// smile.Client.RegisterWebhook). Repeating it changes nothing; after a
// secret rotation it replaces the registration. If Smile refuses or cannot
// be reached the page is shown again with the reason and a 502.
func (h *Handler) registerWebhook(c *fiber.Ctx) error {
	s := h.deps.Pages.Settings
	if h.deps.Pages.Registrar == nil || len(s.Secrets) == 0 {
		return badRequest("Registering needs Smile API credentials and a webhook secret.", nil)
	}
	reg, err := h.deps.Pages.Registrar.RegisterWebhook(c.UserContext(), h.wantedWebhook())
	if reg.Webhook.ID == "" {
		if err == nil {
			err = errors.New("smile returned a registration without an id")
		}
		return h.settingsProblem(c, "Smile did not register the webhook: "+registerProblem(err), err)
	}
	oldKept := err != nil
	if oldKept {
		h.log.Warn("Replaced webhook registration but could not delete the old one", slog.String("old_id", reg.ReplacedID), slog.Any("error", err))
	}
	detail := map[string]any{"webhook_id": reg.Webhook.ID, "url": s.WebhookURL, "outcome": reg.Outcome}
	if reg.ReplacedID != "" {
		detail["replaced_id"] = reg.ReplacedID
		detail["old_deleted"] = !oldKept
	}
	if err := h.recordSettingsAction(c, models.ActionWebhookRegistered, detail); err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditWebhookCreated, Target: "Smile webhook " + reg.Webhook.ID, Details: string(reg.Outcome)})
	target := withQuery("/admin/settings", "registered", reg.Webhook.ID, "outcome", string(reg.Outcome), "replaced", reg.ReplacedID)
	if oldKept {
		target += "&old=kept"
	}
	return redirect(c, target)
}

// deleteStaleWebhook is POST /admin/settings/webhooks/:id/delete (admin
// role): delete a registration left behind at Smile. Only one Smile lists as
// ours and stale may be deleted: the one delivering here, and other
// receivers' ones, get a 400, and an id Smile does not have (or that cannot
// be one) a 404. Without confirm=yes it only shows the confirmation page.
func (h *Handler) deleteStaleWebhook(c *fiber.Ctx) error {
	if h.deps.Pages.Registrar == nil {
		return badRequest("Deleting registrations needs Smile API credentials.", nil)
	}
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if id == "" || len(id) > 200 {
		return notFound("Smile has no such webhook registration.")
	}
	set, err := h.webhookSet(c.UserContext())
	if err != nil {
		return h.settingsProblem(c, "Smile's registrations could not be listed: "+registerProblem(err), err)
	}
	stale, ok := set.StaleByID(id)
	switch {
	case !ok && set.Current != nil && set.Current.ID == id:
		return badRequest("This is the registration Smile delivers to this server with; it is not deleted from here.", nil)
	case !ok && !containsWebhook(set.Others, id):
		return notFound("Smile has no such webhook registration (it may have been deleted already).")
	case !ok:
		return badRequest("This registration delivers to another receiver, not to smiledash; delete it in Smile's portal if you mean to.", nil)
	}
	if c.FormValue("confirm") != "yes" {
		return render(c, fiber.StatusOK, views.ConfirmPage(views.ConfirmPageVM{
			LayoutVM:  h.pageLayout(c, "Delete a Smile webhook registration", "settings"),
			Question:  "Delete Smile's webhook registration " + id + "? Smile stops delivering to it at once.",
			Facts:     []string{"URL: " + stale.Webhook.URL, "Name: " + stale.Webhook.Name, "Events: " + strings.Join(stale.Webhook.EventTypes, ", ")},
			ActionURL: "/admin/settings/webhooks/" + url.PathEscape(id) + "/delete", Button: "Delete the registration", CancelURL: "/admin/settings",
		}))
	}
	if err := h.deps.Pages.Registrar.DeleteWebhook(c.UserContext(), id); err != nil && !smile.IsNotFound(err) {
		return h.settingsProblem(c, "Smile did not delete the registration: "+registerProblem(err), err)
	}
	if err := h.recordSettingsAction(c, models.ActionWebhookDeleted, map[string]any{"webhook_id": id, "url": stale.Webhook.URL, "reason": stale.Reason}); err != nil {
		return err
	}
	return redirect(c, withQuery("/admin/settings", "deleted", id))
}

func containsWebhook(hooks []smile.Webhook, id string) bool {
	for _, w := range hooks {
		if w.ID == id {
			return true
		}
	}
	return false
}

// settingsProblem shows the settings page again with a problem from Smile, as
// a 502: the request was fine, Smile's answer was not.
func (h *Handler) settingsProblem(c *fiber.Ctx, problem string, cause error) error {
	vm, verr := h.settingsVM(c)
	if verr != nil {
		return errors.Join(cause, verr)
	}
	h.log.Warn("Smile webhook call failed", slog.Any("error", cause))
	vm.Problem = problem
	return render(c, fiber.StatusBadGateway, views.SettingsPage(vm))
}

func (h *Handler) recordSettingsAction(c *fiber.Ctx, kind string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("handlers: encode %s detail: %w", kind, err)
	}
	action := &models.Action{At: h.now(), Kind: kind, Actor: h.layout(c, "", "").AdminEmail, Detail: b}
	return h.pages().CreateAction(c.UserContext(), action)
}

// registerProblem says why Smile refused, without echoing anything secret.
func registerProblem(err error) string {
	switch {
	case errors.Is(err, smile.ErrInvalidArgument) || smile.IsInvalidParameters(err):
		return "it refused the request (Smile requires an https URL, so check SMILEDASH_PUBLIC_URL)."
	case smile.IsInvalidCredentials(err):
		return "it refused the API key and secret (check SMILE_API_KEY and SMILE_API_SECRET)."
	default:
		return "it could not be reached or answered with an error. See the server log and try again."
	}
}
