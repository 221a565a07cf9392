package handlers

import (
	"encoding/json"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/smile"
	"smiledash/views"
)

// showSettings is GET /admin/settings (admin role).
func (h *Handler) showSettings(c *fiber.Ctx) error {
	vm, err := h.settingsVM(c)
	if err != nil {
		return err
	}
	if id := c.Query("registered"); id != "" {
		vm.Notice = "Smile registered the webhook (id " + id + "). New events will arrive at the URL above."
	}
	return render(c, fiber.StatusOK, views.SettingsPage(vm))
}

func (h *Handler) settingsVM(c *fiber.Ctx) (views.SettingsPageVM, error) {
	s := h.deps.Pages.Settings
	vm := views.SettingsPageVM{
		LayoutVM: h.pageLayout(c, "Settings", "settings"), WebhookURL: s.WebhookURL, AllowedIPs: s.AllowedIPs, Mode: "production",
	}
	if s.Sandbox {
		vm.Mode = "sandbox (Smile is simulated; no API key set)"
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
	case h.deps.Pages.Registrar == nil:
		vm.RegisterNote = "Set SMILE_API_KEY and SMILE_API_SECRET to register the webhook from here; until then, add it in Smile's developer portal with the URL and current secret above."
	case len(s.Secrets) == 0:
		vm.RegisterNote = "No webhook secret is configured."
	default:
		vm.RegisterURL = "/admin/settings/webhook"
	}
	return vm, nil
}

// registerWebhook is POST /admin/settings/webhook (admin role): ask Smile to
// send every event type here, signed with the current secret.
func (h *Handler) registerWebhook(c *fiber.Ctx) error {
	s := h.deps.Pages.Settings
	if h.deps.Pages.Registrar == nil || len(s.Secrets) == 0 {
		return badRequest("Registering needs Smile API credentials and a webhook secret.", nil)
	}
	w, err := h.deps.Pages.Registrar.CreateWebhook(c.UserContext(), smile.WebhookRequest{
		Name: "smiledash", URL: s.WebhookURL, EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: s.Secrets[0],
	})
	if err != nil {
		vm, verr := h.settingsVM(c)
		if verr != nil {
			return errors.Join(err, verr)
		}
		h.log.Warn("Webhook registration failed", "error", err)
		vm.Problem = "Smile did not register the webhook: " + registerProblem(err)
		return render(c, fiber.StatusBadGateway, views.SettingsPage(vm))
	}
	detail, _ := json.Marshal(map[string]string{"webhook_id": w.ID, "url": s.WebhookURL})
	action := &models.Action{At: h.now(), Kind: models.ActionWebhookRegistered, Actor: h.layout(c, "", "").AdminEmail, Detail: detail}
	if err := h.pages().CreateAction(c.UserContext(), action); err != nil {
		return err
	}
	h.audit(c, models.AuditEntry{Action: models.AuditWebhookCreated, Target: "Smile webhook " + w.ID})
	return redirect(c, "/admin/settings?registered="+url.QueryEscape(w.ID))
}

// registerProblem says why Smile refused, without echoing anything secret.
func registerProblem(err error) string {
	switch {
	case errors.Is(err, smile.ErrInvalidArgument):
		return "it refused the request (Smile requires an https URL, so check SMILEDASH_PUBLIC_URL)."
	default:
		return "it could not be reached or answered with an error. See the server log and try again."
	}
}
