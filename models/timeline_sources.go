package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Callback is one Wink Widget callback our connect page posted: a claim from a
// browser, shown in timelines but never moving account state.
type Callback struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	ReceivedAt time.Time `gorm:"column:received_at"`
	UserKey    *int64    `gorm:"column:user_key"`
	LinkID     *int64    `gorm:"column:link_id"`
	Name       string    `gorm:"column:name"`
	AccountID  string    `gorm:"column:account_id"`
	SourceIP   string    `gorm:"column:source_ip"`
	UserAgent  string    `gorm:"column:user_agent"`
	// Args is the raw JSON the widget passed to the callback.
	Args json.RawMessage `gorm:"column:args"`
}

// TableName implements gorm's tabler.
func (Callback) TableName() string { return "callbacks" }

// Kinds of our own actions shown in timelines.
const (
	ActionLinkCreated       = "link_created"
	ActionLinkOpened        = "link_opened"
	ActionLinkRevoked       = "link_revoked"
	ActionWebhookDeleted    = "webhook_deleted"
	ActionTokenRefreshed    = "token_refreshed"
	ActionReprojected       = "reprojected"
	ActionWebhookRegistered = "webhook_registered"
)

// Action is something smiledash itself did (or an admin did through it).
type Action struct {
	ID        int64     `gorm:"column:id;primaryKey"`
	At        time.Time `gorm:"column:at"`
	UserKey   *int64    `gorm:"column:user_key"`
	LinkID    *int64    `gorm:"column:link_id"`
	AccountID string    `gorm:"column:account_id"`
	Kind      string    `gorm:"column:kind"`
	Actor     string    `gorm:"column:actor"`
	// Detail is a small JSON object describing the action.
	Detail json.RawMessage `gorm:"column:detail"`
}

// TableName implements gorm's tabler.
func (Action) TableName() string { return "actions" }

// CreateCallback stores a widget callback and tells listeners.
func (s *Store) CreateCallback(ctx context.Context, cb *Callback) error {
	if len(cb.Args) == 0 {
		cb.Args = json.RawMessage("null")
	}
	cb.ReceivedAt = cb.ReceivedAt.UTC()
	// Reconciliation: the callback and the gap its claim opens commit together (gaps.go).
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(cb).Error; err != nil {
			return err
		}
		return s.openCallbackGap(tx, cb)
	})
	if err != nil {
		return fmt.Errorf("models: store callback %s: %w", cb.Name, err)
	}
	s.publish(Change{Kind: ChangeCallback, ID: cb.ID, UserKey: deref64(cb.UserKey), AccountID: cb.AccountID, At: cb.ReceivedAt, Label: cb.Name})
	return nil
}

// CreateAction records one of our own actions and tells listeners.
func (s *Store) CreateAction(ctx context.Context, a *Action) error {
	if len(a.Detail) == 0 {
		a.Detail = json.RawMessage("{}")
	}
	a.At = a.At.UTC()
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("models: record action %s: %w", a.Kind, err)
	}
	s.publish(Change{Kind: ChangeAction, ID: a.ID, UserKey: deref64(a.UserKey), AccountID: a.AccountID, At: a.At, Label: a.Kind})
	return nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
