package models

import (
	"context"
	"fmt"
)

// UserDetail is everything the user page shows besides the timeline.
type UserDetail struct {
	User         SmileUser
	ExternalRefs []string
	Accounts     []Account
	// Data is what each account made available, by account id then datapoint.
	Data     map[string][]DataAvailability
	Archives []Archive
	Invites  []Invite
	Tasks    []Task
}

// UserDetail loads a user's projections by Smile user id. Every query is on a
// per-user index, so the cost follows the user's own size, not the store's.
func (s *Store) UserDetail(ctx context.Context, id string) (UserDetail, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return UserDetail{}, err
	}
	d := UserDetail{User: u, Data: map[string][]DataAvailability{}}
	if u.Pending() {
		return d, nil // nothing is projected for them yet
	}
	db := s.db.WithContext(ctx)
	var data []DataAvailability
	err = firstErr(
		db.Where("user_key = ?", u.UserKey).Order("first_seen_at, id").Find(&d.Accounts).Error,
		db.Where("user_key = ?", u.UserKey).Order("account_id, datapoint").Find(&data).Error,
		db.Where("user_key = ?", u.UserKey).Order("first_seen_at DESC, id").Limit(200).Find(&d.Archives).Error,
		db.Where("user_key = ?", u.UserKey).Order("id").Limit(200).Find(&d.Invites).Error,
		db.Where("user_key = ?", u.UserKey).Order("source_id, task_type").Limit(200).Find(&d.Tasks).Error,
	)
	if err != nil {
		return UserDetail{}, fmt.Errorf("models: user detail %s: %w", id, err)
	}
	refs, err := s.externalRefs(ctx, []int64{u.UserKey})
	if err != nil {
		return UserDetail{}, err
	}
	for _, r := range refs {
		d.ExternalRefs = append(d.ExternalRefs, r.ExternalRef)
	}
	for _, row := range data {
		d.Data[row.AccountID] = append(d.Data[row.AccountID], row)
	}
	return d, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
