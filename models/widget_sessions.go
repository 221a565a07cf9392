package models

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Why a widget session is refused. All of them mean 403 to the browser.
var (
	ErrSessionUnknown = errors.New("models: widget session unknown")
	ErrSessionExpired = errors.New("models: widget session expired")
	ErrSessionForeign = errors.New("models: widget session belongs to another link")
	ErrSessionRevoked = errors.New("models: widget session's link was revoked")
)

// MaxSessionTokenLen bounds what is hashed when a token is looked up; a real
// token is 43 characters.
const MaxSessionTokenLen = 128

// WidgetSession is the credential one connect page's callbacks and token
// refreshes carry. It is bound to a link and that link's Smile user, and expires.
// Only a SHA-256 of the token is stored.
type WidgetSession struct {
	ID          int64      `gorm:"column:id;primaryKey"`
	TokenHash   string     `gorm:"column:token_hash"`
	LinkID      int64      `gorm:"column:link_id"`
	SmileUserID string     `gorm:"column:smile_user_id"`
	UserKey     *int64     `gorm:"column:user_key"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	ExpiresAt   time.Time  `gorm:"column:expires_at"`
	LastUsedAt  *time.Time `gorm:"column:last_used_at"`
}

// TableName implements gorm's tabler.
func (WidgetSession) TableName() string { return "widget_sessions" }

// CreateWidgetSession starts a session for a link whose Smile user is known and
// returns the token to hand to the page (shown once, never stored). Sessions
// that expired a day ago or more are swept on the way.
func (s *Store) CreateWidgetSession(ctx context.Context, l Link, now time.Time, ttl time.Duration) (string, WidgetSession, error) {
	if l.SmileUserID == "" {
		return "", WidgetSession{}, fmt.Errorf("models: widget session for link %d: no Smile user yet", l.ID)
	}
	token, err := randomToken(32)
	if err != nil {
		return "", WidgetSession{}, err
	}
	now = now.UTC()
	ws := WidgetSession{
		TokenHash: hashToken(token), LinkID: l.ID, SmileUserID: l.SmileUserID, UserKey: l.UserKey,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	db := s.db.WithContext(ctx)
	if err := db.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&WidgetSession{}).Error; err != nil {
		return "", WidgetSession{}, fmt.Errorf("models: sweep widget sessions: %w", err)
	}
	if err := db.Create(&ws).Error; err != nil {
		return "", WidgetSession{}, fmt.Errorf("models: create widget session for link %d: %w", l.ID, err)
	}
	return token, ws, nil
}

// CheckWidgetSession returns the session a token names if it may act for the
// link at now: ErrSessionUnknown for a forged or malformed token,
// ErrSessionForeign when it belongs to another link, ErrSessionExpired past its
// expiry, ErrSessionRevoked once the link is revoked. It has no side effects.
func (s *Store) CheckWidgetSession(ctx context.Context, token string, l Link, now time.Time) (WidgetSession, error) {
	if token == "" || len(token) > MaxSessionTokenLen {
		return WidgetSession{}, ErrSessionUnknown
	}
	var ws WidgetSession
	err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&ws).Error
	switch {
	case errors.Is(notFound(err), ErrNotFound):
		return WidgetSession{}, ErrSessionUnknown
	case err != nil:
		return WidgetSession{}, fmt.Errorf("models: look up widget session: %w", err)
	case ws.LinkID != l.ID || ws.SmileUserID != l.SmileUserID:
		return WidgetSession{}, ErrSessionForeign
	case !now.Before(ws.ExpiresAt):
		return WidgetSession{}, ErrSessionExpired
	case l.RevokedAt != nil:
		return WidgetSession{}, ErrSessionRevoked
	}
	return ws, nil
}

// TouchWidgetSession records that a session was just used.
func (s *Store) TouchWidgetSession(ctx context.Context, id int64, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&WidgetSession{}).Where("id = ?", id).Update("last_used_at", now.UTC()).Error
	if err != nil {
		return fmt.Errorf("models: touch widget session %d: %w", id, err)
	}
	return nil
}
