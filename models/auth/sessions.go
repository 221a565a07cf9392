package auth

import (
	"context"
	"fmt"
	"time"

	"smiledash/models"
	"smiledash/models/internal/randtoken"
)

// Session lifetimes. A session ends after SessionIdleTimeout without a request,
// and SessionMaxAge after sign-in however active it is.
const (
	SessionIdleTimeout = 8 * time.Hour
	SessionMaxAge      = 7 * 24 * time.Hour
	// sessionTouchEvery bounds the writes: last_seen_at moves at most this often.
	sessionTouchEvery = time.Minute
)

// ErrAdminSessionExpired is returned for a session past its idle or absolute expiry.
// It is also models.ErrNotFound: the session is deleted when found expired.
var ErrAdminSessionExpired = fmt.Errorf("auth: session expired: %w", models.ErrNotFound)

// AdminSession is a signed-in browser. Only the SHA-256 of its token is stored.
type AdminSession struct {
	ID         int64     `gorm:"column:id;primaryKey"`
	TokenHash  string    `gorm:"column:token_hash" json:"-"`
	AdminID    int64     `gorm:"column:admin_id"`
	CSRFToken  string    `gorm:"column:csrf_token" json:"-"`
	CreatedAt  time.Time `gorm:"column:created_at"`
	LastSeenAt time.Time `gorm:"column:last_seen_at"`
	ExpiresAt  time.Time `gorm:"column:expires_at"`
	UserAgent  string    `gorm:"column:user_agent"`
	IP         string    `gorm:"column:ip"`
}

// TableName implements gorm's tabler.
func (AdminSession) TableName() string { return "admin_sessions" }

// Expired reports whether the session has ended at now, idle or absolutely.
func (s AdminSession) Expired(now time.Time) bool {
	return !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(SessionIdleTimeout))
}

// SessionClient describes the browser that signed in, for display only.
type SessionClient struct {
	UserAgent string
	IP        string
}

// SignedIn is a valid session and its admin.
type SignedIn struct {
	Session AdminSession
	Admin   Admin
}

// CreateSession starts a session for the admin and returns its token, which is
// shown only here: the cookie carries it and the store keeps its hash.
func (s *Store) CreateSession(ctx context.Context, adminID int64, client SessionClient, now time.Time) (string, AdminSession, error) {
	token, err := randtoken.New(32)
	if err != nil {
		return "", AdminSession{}, err
	}
	csrf, err := randtoken.New(32)
	if err != nil {
		return "", AdminSession{}, err
	}
	now = now.UTC()
	sess := AdminSession{
		TokenHash: randtoken.Hash(token), AdminID: adminID, CSRFToken: csrf,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge),
		UserAgent: clipText(client.UserAgent, 256), IP: clipText(client.IP, 64),
	}
	if err := s.db.WithContext(ctx).Create(&sess).Error; err != nil {
		return "", AdminSession{}, fmt.Errorf("auth: create session for admin %d: %w", adminID, err)
	}
	return token, sess, nil
}

// SessionByToken returns the stored session for a token, expired or not, or
// models.ErrNotFound. Use SignedInByToken to admit a request.
func (s *Store) SessionByToken(ctx context.Context, token string) (AdminSession, error) {
	var sess AdminSession
	if err := s.db.WithContext(ctx).Where("token_hash = ?", randtoken.Hash(token)).Take(&sess).Error; err != nil {
		return AdminSession{}, fmt.Errorf("auth: session by token: %w", notFound(err))
	}
	return sess, nil
}

// SignedInByToken returns the valid session of a token with its admin. An
// unknown token is models.ErrNotFound; an expired one is deleted and ErrAdminSessionExpired.
// An active session's last_seen_at is moved forward (at most once a minute).
func (s *Store) SignedInByToken(ctx context.Context, token string, now time.Time) (SignedIn, error) {
	if token == "" {
		return SignedIn{}, fmt.Errorf("auth: signed in by token: %w", models.ErrNotFound)
	}
	sess, err := s.SessionByToken(ctx, token)
	if err != nil {
		return SignedIn{}, err
	}
	if sess.Expired(now) {
		if err := s.deleteSessionByID(ctx, sess.ID); err != nil {
			return SignedIn{}, err
		}
		return SignedIn{}, ErrAdminSessionExpired
	}
	var a Admin
	if err := s.db.WithContext(ctx).Where("id = ?", sess.AdminID).Take(&a).Error; err != nil {
		return SignedIn{}, fmt.Errorf("auth: admin %d of session: %w", sess.AdminID, notFound(err))
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.TouchSession(ctx, sess.ID, now); err != nil {
			return SignedIn{}, err
		}
		sess.LastSeenAt = now.UTC()
	}
	return SignedIn{Session: sess, Admin: a}, nil
}

// TouchSession records activity on a session, pushing its idle expiry back.
func (s *Store) TouchSession(ctx context.Context, id int64, now time.Time) error {
	err := s.db.WithContext(ctx).Model(&AdminSession{}).Where("id = ?", id).Update("last_seen_at", now.UTC()).Error
	if err != nil {
		return fmt.Errorf("auth: touch session %d: %w", id, err)
	}
	return nil
}

// DeleteSession ends the session of a token (sign-out). Deleting a session that
// does not exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	err := s.db.WithContext(ctx).Where("token_hash = ?", randtoken.Hash(token)).Delete(&AdminSession{}).Error
	if err != nil {
		return fmt.Errorf("auth: delete session: %w", err)
	}
	return nil
}

func (s *Store) deleteSessionByID(ctx context.Context, id int64) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&AdminSession{}).Error; err != nil {
		return fmt.Errorf("auth: delete session %d: %w", id, err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past either expiry and returns how
// many. Expired sessions are refused anyway; this only keeps the table small.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	now = now.UTC()
	res := s.db.WithContext(ctx).
		Where("expires_at <= ? OR last_seen_at <= ?", now, now.Add(-SessionIdleTimeout)).
		Delete(&AdminSession{})
	if res.Error != nil {
		return 0, fmt.Errorf("auth: delete expired sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// clipText bounds a display string and keeps it valid UTF-8 (PostgreSQL
// refuses anything else, and headers may carry any bytes).
