package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models/storetest"
)

// TestPages_PendingUser: a user the projector has not created yet, known only
// from webhooks stored unresolved, has a page with those webhooks and a note
// saying so; the events list and event page name them; a search filtered to
// them finds nothing rather than everything (their events are not indexed
// yet).
func TestPages_PendingUser(t *testing.T) {
	a := newTestApp(t)
	seedPages(t, a, 1)
	// The projector would resolve the events this test stores unresolved.
	if err := a.in.Projector().Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var seqs []int64
	for i := range 2 {
		seqs = append(seqs, storetest.Unresolved(t, a.store, "et-new-"+strconv.Itoa(i), "u-new", at.Add(time.Duration(i)*time.Minute)).Seq)
	}
	s := a.signIn(t, handlers.RoleAdmin)
	page := s.get(t, "/admin/users/u-new")
	if page.status != http.StatusOK || !strings.Contains(page.body, `data-testid="user-pending"`) ||
		strings.Count(page.body, `data-testid="timeline-item"`) != 2 || strings.Contains(page.body, `data-testid="account"`) {
		t.Fatalf("user page: got %d %.400s; want the pending note and the two webhooks", page.status, page.body)
	}
	if got := s.get(t, "/admin/users/u-none"); got.status != http.StatusNotFound {
		t.Errorf("an unknown user's page: got %d, want 404", got.status)
	}
	if got := s.get(t, "/admin/events?user=u-new"); strings.Count(got.body, `data-testid="event-row"`) != 2 {
		t.Errorf("events filtered to u-new: got %d rows, want 2", strings.Count(got.body, `data-testid="event-row"`))
	}
	ev := s.get(t, "/admin/events/"+strconv.FormatInt(seqs[0], 10))
	for _, want := range []string{`href="/admin/users/u-new"`, `data-testid="event-unprojected"`, `data-testid="changes-unresolved"`} {
		if !strings.Contains(ev.body, want) {
			t.Errorf("event page: no %s in %d %.300s", want, ev.status, ev.body)
		}
	}
	if _, err := a.store.IndexSearch(t.Context(), 1000); err != nil {
		t.Fatal(err)
	}
	if all := s.get(t, "/admin/search?q=login-user-000"); !strings.Contains(all.body, `data-testid="search-row"`) {
		t.Fatalf("unfiltered search found nothing: %.300s", all.body)
	}
	if got := s.get(t, "/admin/search?q=login-user-000&user=u-new"); strings.Contains(got.body, `data-testid="search-row"`) {
		t.Error("a search filtered to the pending user found another user's event")
	}
}
