package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/smile"
	"smiledash/smile/fakeapi"
	"smiledash/smile/smiletest"
)

const ourWebhookURL = "https://dash.example.test/webhooks/smile"

// registrationsFor returns Smile's registrations for a URL.
func registrationsFor(api *fakeapi.Server, u string) []smile.Webhook {
	var out []smile.Webhook
	for _, w := range api.Webhooks() {
		if w.URL == u {
			out = append(out, w)
		}
	}
	return out
}

// locationQuery returns the query of a redirect's Location.
func locationQuery(t *testing.T, r response) url.Values {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("got %d, want 303; body %.300s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestSettings_RegisterUpdatesInPlaceAndDeletesStale walks the registration
// flow against the spec-following fake Smile: the first press creates the
// registration, pressing again changes nothing, a secret rotation replaces
// it with one registration left for our URL, and a registration left behind
// at an earlier URL is listed and deleted only after confirmation.
func TestSettings_RegisterUpdatesInPlaceAndDeletesStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg, api := smileRegistrar(t)
	crm, err := reg.CreateWebhook(ctx, smile.WebhookRequest{Name: "crm", URL: "https://crm.example.test/hooks", EventTypes: []string{"ACCOUNT_CONNECTED"}, Active: true, Secret: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	stale, err := reg.CreateWebhook(ctx, smile.WebhookRequest{Name: "smiledash", URL: "https://old-tunnel.example.test/webhooks/smile", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "older"})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, withSettings(reg))
	admin := a.signIn(t, handlers.RoleAdmin)

	first := locationQuery(t, admin.postForm(t, "/admin/settings/webhook", url.Values{}))
	hooks := registrationsFor(api, ourWebhookURL)
	if first.Get("outcome") != "created" || len(hooks) != 1 || hooks[0].Secret != smiletest.FixtureSecret || first.Get("registered") != hooks[0].ID {
		t.Fatalf("first press: got %v and registrations %+v, want one created with the current secret", first, hooks)
	}
	again := locationQuery(t, admin.postForm(t, "/admin/settings/webhook", url.Values{}))
	if again.Get("outcome") != "unchanged" || again.Get("registered") != hooks[0].ID || len(registrationsFor(api, ourWebhookURL)) != 1 {
		t.Errorf("second press: got %v, want %s unchanged and still one registration", again, hooks[0].ID)
	}
	if page := admin.get(t, "/admin/settings?"+again.Encode()); !strings.Contains(page.body, "nothing changed") {
		t.Errorf("the page does not say nothing changed")
	}

	// Rotation: the new secret first, the old one kept for verification.
	rotatedApp := newTestApp(t, withSettings(reg), func(d *handlers.Deps) {
		d.Pages.Settings.Secrets = []string{"rotated-secret", smiletest.FixtureSecret}
	})
	rotAdmin := rotatedApp.signIn(t, handlers.RoleAdmin)
	rotated := locationQuery(t, rotAdmin.postForm(t, "/admin/settings/webhook", url.Values{}))
	after := registrationsFor(api, ourWebhookURL)
	if rotated.Get("outcome") != "replaced" || rotated.Get("replaced") != hooks[0].ID || len(after) != 1 || after[0].Secret != "rotated-secret" || after[0].ID != rotated.Get("registered") {
		t.Fatalf("rotation: got %v and registrations %+v, want the one registration replaced with the new secret", rotated, after)
	}

	page := rotAdmin.get(t, "/admin/settings")
	for _, want := range []string{`data-testid="registration-up-to-date"`, after[0].ID, `data-testid="registration-stale"`, stale.ID,
		"old-tunnel.example.test", `data-testid="registrations-others"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("settings page lacks %s", want)
		}
	}
	if strings.Contains(page.body, "rotated-secret") || strings.Contains(page.body, "older") {
		t.Error("the settings page shows a registration's secret")
	}

	deletePath := "/admin/settings/webhooks/" + stale.ID + "/delete"
	viewer := rotatedApp.signIn(t, handlers.RoleViewer)
	if got := viewer.postForm(t, deletePath, url.Values{"confirm": {"yes"}}); got.status != http.StatusForbidden {
		t.Errorf("viewer delete: got %d, want 403", got.status)
	}
	confirm := rotAdmin.postForm(t, deletePath, url.Values{})
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-testid="confirm-form"`) || !strings.Contains(confirm.body, `name="confirm" value="yes"`) {
		t.Fatalf("delete without confirmation: got %d, want the confirmation page; body %.300s", confirm.status, confirm.body)
	}
	if len(registrationsFor(api, stale.URL)) != 1 {
		t.Fatal("deleted before confirmation")
	}
	for _, tc := range []struct {
		name, id string
		want     int
	}{
		{"the registration delivering here", after[0].ID, http.StatusBadRequest},
		{"another receiver's", crm.ID, http.StatusBadRequest},
		{"one Smile does not have", "no-such-id", http.StatusNotFound},
	} {
		if got := rotAdmin.postForm(t, "/admin/settings/webhooks/"+tc.id+"/delete", url.Values{"confirm": {"yes"}}); got.status != tc.want {
			t.Errorf("delete %s: got %d, want %d", tc.name, got.status, tc.want)
		}
	}
	deleted := locationQuery(t, rotAdmin.postForm(t, deletePath, url.Values{"confirm": {"yes"}}))
	if deleted.Get("deleted") != stale.ID || len(registrationsFor(api, stale.URL)) != 0 {
		t.Errorf("confirmed delete: got %v, and Smile still has %d registrations at the old URL", deleted, len(registrationsFor(api, stale.URL)))
	}
	if len(api.Webhooks()) != 2 {
		t.Errorf("Smile has %d registrations, want ours and the CRM's", len(api.Webhooks()))
	}
	var kinds []string
	if err := rotatedApp.store.DB().Model(&models.Action{}).Order("id").Pluck("kind", &kinds).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if strings.Join(kinds, ",") != models.ActionWebhookRegistered+","+models.ActionWebhookDeleted {
		t.Errorf("got actions %v, want webhook_registered then webhook_deleted", kinds)
	}
}

// TestSettings_RegisterDuplicateIsStale checks that a second registration
// for our own URL (made in Smile's portal) is listed as left behind.
func TestSettings_RegisterDuplicateIsStale(t *testing.T) {
	t.Parallel()
	reg, _ := smileRegistrar(t)
	a := newTestApp(t, withSettings(reg))
	admin := a.signIn(t, handlers.RoleAdmin)
	locationQuery(t, admin.postForm(t, "/admin/settings/webhook", url.Values{}))
	dup, err := reg.CreateWebhook(context.Background(), smile.WebhookRequest{Name: "portal", URL: ourWebhookURL, EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	page := admin.get(t, "/admin/settings")
	_, staleList, _ := strings.Cut(page.body, `data-testid="registrations-stale"`)
	if !strings.Contains(staleList, dup.ID) || !strings.Contains(staleList, "same URL") {
		t.Errorf("the duplicate %s is not listed as left behind", dup.ID)
	}
}

// TestSettings_SmileUnreachable keeps the page usable when Smile fails.
func TestSettings_SmileUnreachable(t *testing.T) {
	t.Parallel()
	client, err := smile.NewClient(smile.ClientConfig{BaseURL: "http://127.0.0.1:1/v1", APIKey: "k", APISecret: "s", MaxRetries: -1, RequestsPerSecond: -1})
	if err != nil {
		t.Fatal(err)
	}
	a := newTestApp(t, withSettings(client))
	admin := a.signIn(t, handlers.RoleAdmin)
	if got := admin.get(t, "/admin/settings"); got.status != http.StatusOK || !strings.Contains(got.body, `data-testid="registrations-problem"`) {
		t.Errorf("got %d, want the page with a listing problem", got.status)
	}
	if got := admin.postForm(t, "/admin/settings/webhook", url.Values{}); got.status != http.StatusBadGateway || !strings.Contains(got.body, `data-testid="settings-problem"`) {
		t.Errorf("register: got %d, want 502 with the problem", got.status)
	}
}

func TestSettings_ReprojectAllIsConfirmedAndAdminOnly(t *testing.T) {
	t.Parallel()
	var pending []func()
	a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) {
		d.Pages.Background = func(job func()) { pending = append(pending, job) }
	})
	seedPages(t, a, 1)
	admin, viewer := a.signIn(t, handlers.RoleAdmin), a.signIn(t, handlers.RoleViewer)
	if got := admin.get(t, "/admin/settings"); !strings.Contains(got.body, `data-testid="reproject-all-form"`) {
		t.Error("the settings page offers no re-project action")
	}
	if got := viewer.postForm(t, "/admin/settings/reproject", url.Values{"confirm": {"yes"}}); got.status != http.StatusForbidden {
		t.Errorf("viewer: got %d, want 403", got.status)
	}
	confirm := admin.postForm(t, "/admin/settings/reproject", url.Values{})
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `data-testid="confirm-form"`) || len(pending) != 0 {
		t.Fatalf("without confirmation: got %d with %d jobs, want the confirmation page and no job", confirm.status, len(pending))
	}
	if q := locationQuery(t, admin.postForm(t, "/admin/settings/reproject", url.Values{"confirm": {"yes"}})); q.Get("reprojecting") != "started" || len(pending) != 1 {
		t.Fatalf("confirmed: got %v with %d jobs, want started and one job", q, len(pending))
	}
	if q := locationQuery(t, admin.postForm(t, "/admin/settings/reproject", url.Values{"confirm": {"yes"}})); q.Get("reprojecting") != "already" || len(pending) != 1 {
		t.Errorf("while running: got %v with %d jobs, want already and still one job", q, len(pending))
	}
	if got := admin.get(t, "/admin/settings?reprojecting=started"); !strings.Contains(got.body, "Rebuilding every projection") {
		t.Error("the settings page does not say the rebuild started")
	}
	pending[0]()
	var details []string
	if err := a.store.DB().Model(&models.Action{}).Where("kind = ?", models.ActionReprojected).Pluck("detail", &details).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if len(details) != 1 || !strings.Contains(details[0], `"from":"settings"`) {
		t.Errorf("got reprojected actions %v, want one from settings", details)
	}
}

func TestSettings_SandboxSecretIsShownOnlyInSandbox(t *testing.T) {
	t.Parallel()
	for _, sandbox := range []bool{true, false} {
		a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) { d.Pages.Settings.Sandbox = sandbox })
		got := a.signIn(t, handlers.RoleAdmin).get(t, "/admin/settings")
		shown := strings.Contains(got.body, `value="`+smiletest.FixtureSecret+`"`)
		if shown != sandbox || strings.Contains(got.body, `data-testid="sandbox-secret-reveal"`) != sandbox ||
			strings.Contains(got.body, "/static/js/settings.js") != sandbox {
			t.Errorf("sandbox %v: secret shown %v, want %v", sandbox, shown, sandbox)
		}
		if sandbox && !strings.Contains(got.body, `type="password"`) {
			t.Error("the sandbox secret is not hidden until revealed")
		}
		if strings.Contains(got.body, "Nothing to register in the sandbox") != sandbox {
			t.Errorf("sandbox %v: the register note does not fit the mode", sandbox)
		}
	}
}

// TestEmptyStates_SandboxPointsToSettingsAndLinks: in the sandbox there is
// no webhook to register with Smile.
func TestEmptyStates_SandboxPointsToSettingsAndLinks(t *testing.T) {
	t.Parallel()
	for _, sandbox := range []bool{true, false} {
		a := newTestApp(t, withSettings(nil), func(d *handlers.Deps) { d.Admin.Sandbox = sandbox })
		s := a.signIn(t, handlers.RoleViewer)
		for _, tc := range []struct{ path, testID string }{
			{"/admin", "overview-empty"}, {"/admin/users", "users-empty"}, {"/admin/events", "events-empty"},
		} {
			body := s.get(t, tc.path).body
			_, empty, found := strings.Cut(body, `data-testid="`+tc.testID+`"`)
			empty, _, _ = strings.Cut(empty, "</div>")
			switch {
			case !found:
				t.Errorf("%s: no empty state", tc.path)
			case sandbox && (strings.Contains(strings.ToLower(empty), "register") || !strings.Contains(empty, `href="/admin/settings"`) || !strings.Contains(empty, `href="/admin/links"`)):
				t.Errorf("%s in the sandbox: got %q, want links to Settings and Links and no registering", tc.path, empty)
			case !sandbox && !strings.Contains(strings.ToLower(empty), "register"):
				t.Errorf("%s with Smile: got %q, want the registration advice", tc.path, empty)
			}
		}
	}
}

// oldKeptRegistrar answers a registration like a replacement whose delete of
// the old registration failed.
type oldKeptRegistrar struct{ *smile.Client }

func (r oldKeptRegistrar) RegisterWebhook(_ context.Context, req smile.WebhookRequest) (smile.WebhookRegistration, error) {
	return smile.WebhookRegistration{Webhook: smile.Webhook{ID: "w-new", URL: req.URL}, Outcome: smile.WebhookReplaced, ReplacedID: "w-old"},
		errors.New("smile: replace webhook w-old: created w-new, but the old one remains")
}

func TestSettings_ReplacedButOldKept(t *testing.T) {
	t.Parallel()
	reg, _ := smileRegistrar(t)
	a := newTestApp(t, withSettings(oldKeptRegistrar{reg}))
	admin := a.signIn(t, handlers.RoleAdmin)
	q := locationQuery(t, admin.postForm(t, "/admin/settings/webhook", url.Values{}))
	if q.Get("registered") != "w-new" || q.Get("old") != "kept" {
		t.Fatalf("got %v, want w-new registered and the old one reported kept", q)
	}
	if got := admin.get(t, "/admin/settings?"+q.Encode()); !strings.Contains(got.body, "could not be deleted") {
		t.Error("the page does not say the old registration remains")
	}
	var detail []string
	if err := a.store.DB().Model(&models.Action{}).Where("kind = ?", models.ActionWebhookRegistered).Pluck("detail", &detail).Error; err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if len(detail) != 1 || !strings.Contains(detail[0], `"old_deleted":false`) {
		t.Errorf("got actions %v, want one saying the old registration was not deleted", detail)
	}
}
