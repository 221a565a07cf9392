package models

import (
	"context"
	"fmt"
)

// Unresolved events (events.pending_user, migration 00020): on SQLite the
// acknowledgement path does not create users, so a webhook for a Smile user
// without a smile_users row is stored with user_key NULL and the user's id in
// pending_user, until the projector creates the user and sets user_key. The
// user page, timeline and events list read the log, so they show such events
// at once, as that user's.

// UnresolvedOf is the SQL condition (one argument: the Smile user id) for a
// user's unresolved events. It is served by events_user_time's NULL keys,
// which hold only the projector's backlog and user-less events; pending_user
// itself is not indexed, so acknowledging a webhook writes no extra page.
const UnresolvedOf = "user_key IS NULL AND pending_user = ?"

// Unresolved reports whether the projector has yet to resolve ev's user.
func (ev Event) Unresolved() bool { return ev.UserKey == nil && ev.PendingUser != "" }

// Pending reports whether u is UserByID's placeholder for a user known only
// from unresolved events: nothing is projected for them yet, and no row of
// any table has their (zero) key.
func (u SmileUser) Pending() bool { return u.UserKey == 0 }

// hasUnresolved reports whether any unresolved event names the Smile user id.
func (s *Store) hasUnresolved(ctx context.Context, id string) (bool, error) {
	var seqs []int64
	if err := s.db.WithContext(ctx).Model(&Event{}).Where(UnresolvedOf, id).Limit(1).Pluck("seq", &seqs).Error; err != nil {
		return false, fmt.Errorf("models: unresolved events of user %s: %w", id, err)
	}
	return len(seqs) > 0, nil
}
