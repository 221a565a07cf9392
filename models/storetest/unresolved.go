package storetest

import (
	"fmt"
	"testing"
	"time"

	"smiledash/models"
)

// Unresolved stores an INCOMES_ADDED webhook of account a-<user> as the SQLite
// acknowledgement path stores one for a user without a smile_users row: no
// user_key, the Smile user id in pending_user (migration 00020). No projector
// has seen it.
func Unresolved(t testing.TB, s *models.Store, eventID, user string, at time.Time) models.Event {
	t.Helper()
	account := "a-" + user
	ev := models.Event{EventID: eventID, Type: "INCOMES_ADDED", CreatedAt: at.UTC(), ReceivedAt: at.UTC(), PendingUser: user,
		AccountID: account, SourceIP: "127.0.0.1", Deliveries: 1,
		Body: RawEvent(eventID, "INCOMES_ADDED", at, fmt.Sprintf(`{"userId":%q,"accountId":%q,"count":1}`, user, account))}
	if err := s.DB().Create(&ev).Error; err != nil {
		t.Fatalf("store unresolved event %s: %v", eventID, err)
	}
	return ev
}

// Resolve does to an unresolved event what the projector does: it creates the
// user's row if there is none, sets the event's user_key and clears
// pending_user. It returns the user's key.
func Resolve(t testing.TB, s *models.Store, seq int64, user string) int64 {
	t.Helper()
	u := models.SmileUser{ID: user}
	if err := s.DB().Where("id = ?", user).FirstOrCreate(&u).Error; err != nil {
		t.Fatalf("create user %s: %v", user, err)
	}
	if err := s.DB().Exec("UPDATE events SET user_key = ?, pending_user = '' WHERE seq = ?", u.UserKey, seq).Error; err != nil {
		t.Fatalf("resolve event %d: %v", seq, err)
	}
	return u.UserKey
}
