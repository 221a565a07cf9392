package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// loadProjection reads the rows a batch of events touches, inside the writer's
// transaction.
func loadProjection(ctx context.Context, tx *gorm.DB, t touched) (*projection, error) {
	p := newProjection()
	q := tx.WithContext(ctx)
	if len(t.users) > 0 {
		var rows []*SmileUser
		if err := q.Where("user_key IN ?", t.users).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		for _, r := range rows {
			p.users[r.UserKey] = r
		}
	}
	if len(t.accounts) > 0 {
		var rows []*Account
		if err := q.Where("id IN ?", t.accounts).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load accounts: %w", err)
		}
		for _, r := range rows {
			p.accounts[r.ID] = r
		}
		var data []*DataAvailability
		if err := q.Where("account_id IN ?", t.accounts).Find(&data).Error; err != nil {
			return nil, fmt.Errorf("load data availability: %w", err)
		}
		for _, r := range data {
			p.data[dataKey{r.AccountID, r.Datapoint}] = r
		}
	}
	if err := loadByID(q, t.archives, p.archives, func(a *Archive) string { return a.ID }); err != nil {
		return nil, fmt.Errorf("load archives: %w", err)
	}
	if err := loadByID(q, t.invites, p.invites, func(a *Invite) string { return a.ID }); err != nil {
		return nil, fmt.Errorf("load invites: %w", err)
	}
	if err := loadByID(q, t.records, p.records, func(a *Record) string { return a.ID }); err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	if err := loadByID(q, t.verifications, p.verifications, func(a *Verification) string { return a.ID }); err != nil {
		return nil, fmt.Errorf("load verifications: %w", err)
	}
	if len(t.tasks) > 0 {
		sources := make([]string, 0, len(t.tasks))
		for _, k := range t.tasks {
			sources = append(sources, k.sourceID)
		}
		var rows []*Task
		if err := q.Where("source_id IN ?", uniq(sources)).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load tasks: %w", err)
		}
		for _, r := range rows {
			p.tasks[taskKey{r.SourceID, r.TaskType}] = r
		}
	}
	return p, nil
}

func loadByID[T any](q *gorm.DB, ids []string, into map[string]*T, id func(*T) string) error {
	if len(ids) == 0 {
		return nil
	}
	var rows []*T
	if err := q.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		into[id(r)] = r
	}
	return nil
}

// save writes every row the projection holds back with one upsert per table.
func (p *projection) save(ctx context.Context, tx *gorm.DB) error {
	q := tx.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true})
	err := errors.Join(
		upsert(q, "users", p.users),
		upsert(q, "accounts", p.accounts),
		upsert(q, "archives", p.archives),
		upsert(q, "invites", p.invites),
		upsert(q, "tasks", p.tasks),
		upsert(q, "data availability", p.data),
		upsert(q, "records", p.records),
		upsert(q, "verifications", p.verifications),
	)
	if err != nil {
		return err
	}
	for typ, n := range p.counts {
		err := tx.WithContext(ctx).Exec(
			"INSERT INTO event_counts (type, stored) VALUES (?, ?) "+
				"ON CONFLICT (type) DO UPDATE SET stored = event_counts.stored + excluded.stored", typ, n).Error
		if err != nil {
			return fmt.Errorf("save event counts: %w", err)
		}
	}
	return nil
}

func upsert[K comparable, V any](q *gorm.DB, name string, m map[K]*V) error {
	if len(m) == 0 {
		return nil
	}
	rows := make([]*V, 0, len(m))
	for _, v := range m {
		rows = append(rows, v)
	}
	if err := q.CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}
