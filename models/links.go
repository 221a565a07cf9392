package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Limits on what a connect link holds. The external reference travels to Smile
// in the user's externalMetadata, whose values must be ASCII and at most 500
// characters (smile-api.md §4.4); we keep it well inside that.
const (
	MaxExternalRefLen = 200
	MaxLinkLabelLen   = 200
	// LinkCodeLen is the length of a generated code: 18 random bytes, base64url.
	LinkCodeLen = 24
)

// Link states, as the admin pages and the API show them.
const (
	LinkActive  = "active"
	LinkExpired = "expired"
	LinkRevoked = "revoked"
)

// ErrInvalidLink is wrapped by CreateLink for input it refuses.
var ErrInvalidLink = errors.New("models: invalid link")

// Link is a connect link: an unguessable code that opens the widget page for one
// end user, known to us by ExternalRef. The Smile user is created on first open.
type Link struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	Code         string     `gorm:"column:code"`
	ExternalRef  string     `gorm:"column:external_ref"`
	Label        string     `gorm:"column:label"`
	SmileUserID  string     `gorm:"column:smile_user_id"`
	UserKey      *int64     `gorm:"column:user_key"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	CreatedBy    string     `gorm:"column:created_by"`
	ExpiresAt    *time.Time `gorm:"column:expires_at"`
	RevokedAt    *time.Time `gorm:"column:revoked_at"`
	OpenCount    int64      `gorm:"column:open_count"`
	LastOpenedAt *time.Time `gorm:"column:last_opened_at"`
}

// TableName implements gorm's tabler.
func (Link) TableName() string { return "connect_links" }

// State is LinkRevoked, LinkExpired or LinkActive at now. Revocation wins.
func (l Link) State(now time.Time) string {
	switch {
	case l.RevokedAt != nil:
		return LinkRevoked
	case l.ExpiresAt != nil && !now.Before(*l.ExpiresAt):
		return LinkExpired
	}
	return LinkActive
}

// NewLink is what creating a link takes.
type NewLink struct {
	ExternalRef string
	Label       string
	// ExpiresAt is optional; nil means the link never expires.
	ExpiresAt *time.Time
	// CreatedBy names who asked: an admin's email, "api" or "cli".
	CreatedBy string
	Now       time.Time
}

// ValidateNewLink checks a link request and returns one plain-words message per
// bad field, keyed by field name ("external_ref", "label", "expires").
func ValidateNewLink(in NewLink) map[string]string {
	errs := map[string]string{}
	switch {
	case in.ExternalRef == "":
		errs["external_ref"] = "Enter the reference your system knows this person by."
	case len(in.ExternalRef) > MaxExternalRefLen:
		errs["external_ref"] = fmt.Sprintf("Use at most %d characters.", MaxExternalRefLen)
	case !printableASCII(in.ExternalRef):
		errs["external_ref"] = "Use plain ASCII letters, digits and punctuation only (Smile stores it as ASCII)."
	}
	switch {
	case len(in.Label) > MaxLinkLabelLen:
		errs["label"] = fmt.Sprintf("Use at most %d characters.", MaxLinkLabelLen)
	case strings.IndexByte(in.Label, 0) >= 0 || !utf8.ValidString(in.Label):
		// The HTTP edge refuses these in forms, but a JSON body can carry
		// "\u0000", and PostgreSQL text can hold neither.
		errs["label"] = "Use plain text: no NUL characters."
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(in.Now) {
		errs["expires"] = "Choose an expiry in the future."
	}
	return errs
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CreateLink stores a new link with a fresh unguessable code and records the
// link_created action. Invalid input wraps ErrInvalidLink.
func (s *Store) CreateLink(ctx context.Context, in NewLink) (Link, error) {
	if errs := ValidateNewLink(in); len(errs) > 0 {
		return Link{}, fmt.Errorf("%w: %v", ErrInvalidLink, errs)
	}
	code, err := randomToken(18)
	if err != nil {
		return Link{}, err
	}
	l := Link{
		Code: code, ExternalRef: in.ExternalRef, Label: in.Label,
		CreatedAt: in.Now.UTC(), CreatedBy: in.CreatedBy, ExpiresAt: utcPtr(in.ExpiresAt),
	}
	if err := s.db.WithContext(ctx).Create(&l).Error; err != nil {
		return Link{}, fmt.Errorf("models: create link for %q: %w", in.ExternalRef, err)
	}
	detail := map[string]any{"external_ref": l.ExternalRef, "label": l.Label, "expires_at": l.ExpiresAt}
	if err := s.recordLinkAction(ctx, l, ActionLinkCreated, in.CreatedBy, in.Now, detail); err != nil {
		return l, err
	}
	return l, nil
}

// LinkByCode returns the link with that code, or ErrNotFound.
func (s *Store) LinkByCode(ctx context.Context, code string) (Link, error) {
	var l Link
	if err := s.db.WithContext(ctx).Where("code = ?", code).Take(&l).Error; err != nil {
		return Link{}, fmt.Errorf("models: link by code: %w", notFound(err))
	}
	return l, nil
}

// LinkByID returns one link, or ErrNotFound.
func (s *Store) LinkByID(ctx context.Context, id int64) (Link, error) {
	var l Link
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&l).Error; err != nil {
		return Link{}, fmt.Errorf("models: link %d: %w", id, notFound(err))
	}
	return l, nil
}

// Links returns up to limit links, newest first, with ids below beforeID (0: from
// the newest).
func (s *Store) Links(ctx context.Context, beforeID int64, limit int) ([]Link, error) {
	q := s.db.WithContext(ctx).Order("id DESC").Limit(limit)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var out []Link
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list links: %w", err)
	}
	return out, nil
}

// RevokeLink withdraws a link so it no longer opens and its widget sessions stop
// working, and records link_revoked. Revoking a revoked link changes nothing.
func (s *Store) RevokeLink(ctx context.Context, id int64, actor string, now time.Time) (Link, error) {
	now = now.UTC()
	res := s.db.WithContext(ctx).Model(&Link{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now)
	if res.Error != nil {
		return Link{}, fmt.Errorf("models: revoke link %d: %w", id, res.Error)
	}
	l, err := s.LinkByID(ctx, id)
	if err != nil || res.RowsAffected == 0 {
		return l, err
	}
	return l, s.recordLinkAction(ctx, l, ActionLinkRevoked, actor, now, map[string]any{"external_ref": l.ExternalRef})
}

// AttachSmileUser binds the Smile user created on the link's first open. Only the
// first binding counts: when two first opens race, both get the link back as the
// winner stored it, and the loser's Smile user is simply never used.
func (s *Store) AttachSmileUser(ctx context.Context, linkID int64, smileUserID string) (Link, error) {
	key, err := s.EnsureSmileUser(ctx, smileUserID)
	if err != nil {
		return Link{}, err
	}
	err = s.db.WithContext(ctx).Model(&Link{}).Where("id = ? AND smile_user_id = ''", linkID).
		Updates(map[string]any{"smile_user_id": smileUserID, "user_key": key}).Error
	if err != nil {
		return Link{}, fmt.Errorf("models: attach smile user to link %d: %w", linkID, err)
	}
	// Reconciliation: a user a link reached has no no_link gap (gaps.go).
	if err := s.deleteNoLinkGap(ctx, key); err != nil {
		return Link{}, err
	}
	return s.LinkByID(ctx, linkID)
}

// MarkLinkOpened counts an open of the link's page and records link_opened with
// detail (a small JSON-able map).
func (s *Store) MarkLinkOpened(ctx context.Context, l Link, now time.Time, detail map[string]any) error {
	now = now.UTC()
	err := s.db.WithContext(ctx).Model(&Link{}).Where("id = ?", l.ID).
		Updates(map[string]any{"open_count": gorm.Expr("open_count + 1"), "last_opened_at": now}).Error
	if err != nil {
		return fmt.Errorf("models: mark link %d opened: %w", l.ID, err)
	}
	return s.recordLinkAction(ctx, l, ActionLinkOpened, "end user", now, detail)
}

// RecordLinkAction records one of our actions about a link (e.g. token_refreshed).
func (s *Store) RecordLinkAction(ctx context.Context, l Link, kind, actor string, now time.Time, detail map[string]any) error {
	return s.recordLinkAction(ctx, l, kind, actor, now, detail)
}

func (s *Store) recordLinkAction(ctx context.Context, l Link, kind, actor string, now time.Time, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	detail["link_id"] = l.ID
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("models: encode %s detail: %w", kind, err)
	}
	id := l.ID
	return s.CreateAction(ctx, &Action{At: now, UserKey: l.UserKey, LinkID: &id, Kind: kind, Actor: actor, Detail: b})
}

// EnsureSmileUser returns the key of the Smile user with that id, creating the
// row if it is new, exactly as the webhook writer does (INSERT … ON CONFLICT (id)
// DO NOTHING), so a user seen first by a link and later by webhooks is one row.
func (s *Store) EnsureSmileUser(ctx context.Context, smileID string) (int64, error) {
	if smileID == "" {
		return 0, errors.New("models: ensure smile user: empty id")
	}
	db := s.db.WithContext(ctx)
	if err := db.Exec("INSERT INTO smile_users (id) VALUES (?) ON CONFLICT (id) DO NOTHING", smileID).Error; err != nil {
		return 0, fmt.Errorf("models: ensure smile user: %w", err)
	}
	var key int64
	if err := db.Raw("SELECT user_key FROM smile_users WHERE id = ?", smileID).Row().Scan(&key); err != nil {
		return 0, fmt.Errorf("models: ensure smile user: read key: %w", err)
	}
	return key, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
