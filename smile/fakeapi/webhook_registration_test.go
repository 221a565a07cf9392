package fakeapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/fakeapi"
)

// TestRegisterWebhook_AgainstTheSpec runs the registration flow (list, then
// create, keep or replace; delete what is left behind) through the
// validating transport: every call it makes is one of Smile's spec
// operations, with spec-valid requests and answers.
func TestRegisterWebhook_AgainstTheSpec(t *testing.T) {
	env := newEnv(t, fakeapi.Options{})
	ctx := t.Context()
	c := env.client
	crm, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "crm", URL: "https://crm.example.com/hooks", EventTypes: []string{"ACCOUNT_CONNECTED"}, Active: true, Secret: "theirs"})
	must(t, err)
	env.clock.Advance(time.Second)
	old, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "smiledash", URL: "https://old-tunnel.example.net/webhooks/smile", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s1"})
	must(t, err)
	env.clock.Advance(time.Second)

	want := smile.WebhookRequest{Name: "smiledash", URL: "https://dash.example.com/webhooks/smile", EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s1"}
	first, err := c.RegisterWebhook(ctx, want)
	must(t, err)
	if first.Outcome != smile.WebhookCreated || first.Webhook.URL != want.URL {
		t.Fatalf("first registration: got %+v, want created", first)
	}
	env.clock.Advance(time.Second)
	again, err := c.RegisterWebhook(ctx, want)
	must(t, err)
	if again.Outcome != smile.WebhookUnchanged || again.Webhook.ID != first.Webhook.ID {
		t.Errorf("re-register: got %+v, want %s unchanged", again, first.Webhook.ID)
	}

	want.Secret = "s2" // rotation: the new secret first
	rotated, err := c.RegisterWebhook(ctx, want)
	must(t, err)
	if rotated.Outcome != smile.WebhookReplaced || rotated.ReplacedID != first.Webhook.ID || rotated.Webhook.Secret != "s2" {
		t.Errorf("rotation: got %+v, want %s replaced by one with the new secret", rotated, first.Webhook.ID)
	}
	ours := func() []smile.Webhook {
		var out []smile.Webhook
		for _, w := range env.srv.Webhooks() {
			if w.URL == want.URL {
				out = append(out, w)
			}
		}
		return out
	}
	if got := ours(); len(got) != 1 || got[0].ID != rotated.Webhook.ID || got[0].Secret != "s2" {
		t.Errorf("Smile has %+v for our URL, want only the rotated registration", got)
	}

	// A duplicate made elsewhere (the portal, in the same second and with the
	// same secret) and the old tunnel URL are stale; the CRM's registration is
	// not ours.
	dup, err := c.CreateWebhook(ctx, smile.WebhookRequest{Name: "portal", URL: want.URL, EventTypes: []string{"ALL_EVENTS"}, Active: true, Secret: "s2"})
	must(t, err)
	hooks, err := c.AllWebhooks(ctx)
	must(t, err)
	set := smile.SortWebhooks(hooks, want)
	if set.Current == nil || !set.UpToDate || len(set.Stale) != 2 || len(set.Others) != 1 || set.Others[0].ID != crm.ID {
		t.Fatalf("got %+v, want the rotated one current, two stale and the CRM's apart", set)
	}
	for _, id := range []string{old.ID, dup.ID} {
		if _, ok := set.StaleByID(id); !ok {
			t.Errorf("%s is not listed as stale", id)
		}
		must(t, c.DeleteWebhook(ctx, id))
	}
	var left []string
	for _, w := range env.srv.Webhooks() {
		left = append(left, w.ID)
	}
	if !slices.Equal(left, []string{crm.ID, rotated.Webhook.ID}) {
		t.Errorf("left at Smile: %v, want the CRM's and ours", left)
	}
	for _, op := range env.spec.covered() {
		switch op {
		case "create-webhook 200", "list-webhooks 200", "delete-webhook 200":
		default:
			t.Errorf("unexpected operation %s", op)
		}
	}
}

// TestWebhookUpdate_IsNotAnOperation pins that the fake, like Smile's spec,
// has no call that edits a registration: a PUT answers 501.
func TestWebhookUpdate_IsNotAnOperation(t *testing.T) {
	srv := fakeapi.New(fakeapi.Options{})
	client := &http.Client{Transport: fakeapi.Transport(srv)}
	for _, method := range []string{http.MethodPut, http.MethodPatch} {
		req, err := http.NewRequestWithContext(t.Context(), method, testBase+"/webhooks/abc", nil)
		must(t, err)
		req.SetBasicAuth("k", "s")
		resp, err := client.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s /webhooks/abc: got %d, want 501 UNSUPPORTED_METHOD", method, resp.StatusCode)
		}
	}
}
