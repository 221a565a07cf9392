package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// writerAlone is a writer whose projector is stopped, so a test sees the log
// as acknowledged, before any projection.
func writerAlone(t *testing.T, s *models.Store) *ingest.Writer {
	t.Helper()
	in := storetest.Writer(t, s)
	if err := in.Projector().Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return in
}

func incomesAdded(id, user string, at time.Time) []byte {
	return storetest.RawEvent(id, "INCOMES_ADDED", at,
		fmt.Sprintf(`{"userId":%q,"accountId":"a-%s","count":2,"providers":["examplepayroll_ph"]}`, user, user))
}

type eventUser struct {
	UserKey     *int64 `gorm:"column:user_key"`
	PendingUser string `gorm:"column:pending_user"`
}

func userOfEvent(t *testing.T, s *models.Store, id string) eventUser {
	t.Helper()
	var u eventUser
	if err := s.DB().Table("events").Select("user_key", "pending_user").Where("event_id = ?", id).Take(&u).Error; err != nil {
		t.Fatal(err)
	}
	return u
}

func submitAcked(t *testing.T, in *ingest.Writer, body []byte) {
	t.Helper()
	if res, err := in.Submit(context.Background(), storetest.Incoming(t, body)); err != nil || res != ingest.Stored {
		t.Fatalf("submit: %v, %v", res, err)
	}
}

// On SQLite the acknowledgement path leaves users alone: events wait, with
// their user pending, for the projector, which creates the user and resolves
// them before projecting.
func TestDeferredUsers_TheProjectorCreatesNewUsers(t *testing.T) {
	s := storetest.SQLite(t)
	in := writerAlone(t, s)
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	submitAcked(t, in, incomesAdded("ev-1", "u-new", at))
	submitAcked(t, in, incomesAdded("ev-2", "u-new", at.Add(time.Minute)))

	for _, id := range []string{"ev-1", "ev-2"} {
		if u := userOfEvent(t, s, id); u.UserKey != nil || u.PendingUser != "u-new" {
			t.Fatalf("%s acknowledged as user %v pending %q, want no key and pending u-new", id, u.UserKey, u.PendingUser)
		}
	}
	if n := storetest.Count(t, s.DB().Table("smile_users")); n != 0 {
		t.Fatalf("%d users before the projector ran, want 0", n)
	}

	storetest.Sync(t, s)
	var user models.SmileUser
	if err := s.DB().Where("id = ?", "u-new").Take(&user).Error; err != nil {
		t.Fatalf("user not created by the projector: %v", err)
	}
	for _, id := range []string{"ev-1", "ev-2"} {
		if u := userOfEvent(t, s, id); u.UserKey == nil || *u.UserKey != user.UserKey || u.PendingUser != "" {
			t.Errorf("%s after projection: user %v pending %q, want %d and none", id, u.UserKey, u.PendingUser, user.UserKey)
		}
	}
	if user.EventCount != 2 {
		t.Errorf("user projected with %d events, want 2", user.EventCount)
	}
	var acc models.Account
	if err := s.DB().Where("id = ?", "a-u-new").Take(&acc).Error; err != nil || acc.UserKey != user.UserKey {
		t.Errorf("account %+v (%v), want it under user %d", acc, err, user.UserKey)
	}

	// A known user's events wait for the projector too: the writer never
	// touches users on SQLite.
	submitAcked(t, in, incomesAdded("ev-3", "u-new", at.Add(2*time.Minute)))
	if u := userOfEvent(t, s, "ev-3"); u.UserKey != nil || u.PendingUser != "u-new" {
		t.Errorf("known user's event acknowledged as %v pending %q, want no key and pending u-new", u.UserKey, u.PendingUser)
	}
	storetest.Sync(t, s)
	if u := userOfEvent(t, s, "ev-3"); u.UserKey == nil || *u.UserKey != user.UserKey || u.PendingUser != "" {
		t.Errorf("known user's event after projection: %v pending %q, want user %d", u.UserKey, u.PendingUser, user.UserKey)
	}
}

// PostgreSQL keeps creating users on the acknowledgement path: resolving an
// event there later would rewrite its whole row and every index entry.
func TestDeferredUsers_PostgresCreatesUsersOnAck(t *testing.T) {
	s := storetest.Postgres(t)
	in := writerAlone(t, s)
	submitAcked(t, in, incomesAdded("ev-1", "u-new", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)))
	if u := userOfEvent(t, s, "ev-1"); u.UserKey == nil || u.PendingUser != "" {
		t.Errorf("acknowledged as user %v pending %q, want a user and none pending", u.UserKey, u.PendingUser)
	}
}

// A rebuild replays the events the projector has not reached too, resolving
// their users; the projections are those the projector gives.
func TestDeferredUsers_RebuildResolvesPendingEvents(t *testing.T) {
	s := storetest.SQLite(t)
	bodies := storetest.SyntheticHistory(20)
	in := storetest.Writer(t, s)
	for _, b := range bodies {
		submitAcked(t, in, b)
	}
	want := storetest.DumpProjections(t, s)

	other := storetest.SQLite(t)
	alone := writerAlone(t, other)
	for _, b := range bodies {
		submitAcked(t, alone, b)
	}
	if n := storetest.Count(t, other.DB().Table("events").Where("pending_user <> ''")); n == 0 {
		t.Fatal("no event left pending: the test shows nothing")
	}
	if _, err := ingest.New(other).Reproject(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := storetest.Count(t, other.DB().Table("events").Where("pending_user <> ''")); n != 0 {
		t.Errorf("%d events unresolved after the rebuild", n)
	}
	if got := storetest.DumpProjections(t, other); got != want {
		t.Errorf("projections after a rebuild of pending events differ from the projector's:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// The live change of a just-acknowledged webhook names its user by Smile id,
// so a user's page follows them before the projector has resolved the key.
func TestDeferredUsers_LiveChangeNamesTheUser(t *testing.T) {
	s := storetest.SQLite(t)
	got := make(chan models.Change, 4)
	defer s.Changes().Subscribe(func(c models.Change) {
		if c.Kind == models.ChangeEvent {
			got <- c
		}
	})()
	in := writerAlone(t, s)
	submitAcked(t, in, incomesAdded("ev-1", "u-new", time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)))
	select {
	case c := <-got:
		if c.UserID != "u-new" || c.UserKey != 0 {
			t.Errorf("change %+v, want user u-new with no key yet", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change published for the acknowledged event")
	}
}

// Users are created in the order of their first event, whatever the batches:
// a rebuild (batches of thousands) gives the keys the projector gave one
// event at a time, so a rebuild of a copy taken mid-backlog equals the store
// once its projector has caught up.
func TestDeferredUsers_KeysFollowTheLogNotTheBatches(t *testing.T) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	var bodies [][]byte
	for i, user := range []string{"u-c", "u-a", "u-b", "u-a", "u-c"} {
		bodies = append(bodies, incomesAdded(fmt.Sprintf("ev-%d", i), user, at.Add(time.Duration(i)*time.Minute)))
	}
	oneByOne := storetest.SQLite(t)
	in := storetest.Writer(t, oneByOne)
	for _, b := range bodies {
		storetest.Submit(t, in, b)
	}
	rebuilt := storetest.SQLite(t)
	alone := writerAlone(t, rebuilt)
	for _, b := range bodies {
		submitAcked(t, alone, b)
	}
	if _, err := ingest.New(rebuilt).Reproject(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys := func(s *models.Store) string {
		return storetest.Dump(t, s, "SELECT user_key, id FROM smile_users ORDER BY user_key")
	}
	if got, want := keys(rebuilt), keys(oneByOne); got != want {
		t.Errorf("user keys after a rebuild:\n%s\nwant, as projected one event at a time:\n%s", got, want)
	}
}
