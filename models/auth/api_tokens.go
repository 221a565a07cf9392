package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"smiledash/models"
	"smiledash/models/internal/randtoken"
)

// APITokenPrefix starts every API token, so a leaked one is recognisable (and
// findable by secret scanners).
const APITokenPrefix = "sdk_"

// apiTokenTouchEvery bounds the writes: last_used_at moves at most this often.
const apiTokenTouchEvery = time.Minute

// ErrInvalidTokenName is returned for an empty or overlong token name.
var ErrInvalidTokenName = errors.New("auth: token name must have 1 to 100 characters")

// APIToken is a bearer credential for /api. Only the SHA-256 of the token is
// stored; Prefix is its first characters, safe to show so people can tell
// tokens apart.
type APIToken struct {
	ID         int64      `gorm:"column:id;primaryKey"`
	Name       string     `gorm:"column:name"`
	TokenHash  string     `gorm:"column:token_hash" json:"-"`
	Prefix     string     `gorm:"column:prefix"`
	Role       string     `gorm:"column:role"`
	CreatedBy  *int64     `gorm:"column:created_by"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastUsedAt *time.Time `gorm:"column:last_used_at"`
	RevokedAt  *time.Time `gorm:"column:revoked_at"`
}

// TableName implements gorm's tabler.
func (APIToken) TableName() string { return "api_tokens" }

// NewAPIToken is what CreateAPIToken needs. CreatedBy is the admin who made it,
// or nil when made from the command line.
type NewAPIToken struct {
	Name      string
	Role      string
	CreatedBy *int64
}

// CreateAPIToken stores a new token and returns it in plain text. This is the
// only time the plain text exists; show it once.
func (s *Store) CreateAPIToken(ctx context.Context, in NewAPIToken, now time.Time) (string, APIToken, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len([]rune(name)) > 100 {
		return "", APIToken{}, ErrInvalidTokenName
	}
	if !ValidRole(in.Role) {
		return "", APIToken{}, fmt.Errorf("auth: create api token: %w", ErrInvalidRole)
	}
	secret, err := randtoken.New(32)
	if err != nil {
		return "", APIToken{}, err
	}
	plain := APITokenPrefix + secret
	tok := APIToken{
		Name: name, TokenHash: randtoken.Hash(plain), Prefix: plain[:len(APITokenPrefix)+6],
		Role: in.Role, CreatedBy: in.CreatedBy, CreatedAt: now.UTC(),
	}
	if err := s.db.WithContext(ctx).Create(&tok).Error; err != nil {
		return "", APIToken{}, fmt.Errorf("auth: create api token %q: %w", name, err)
	}
	return plain, tok, nil
}

// APITokenByToken returns the unrevoked token matching a plain-text bearer
// token, or models.ErrNotFound, and records its use (at most once a minute).
func (s *Store) APITokenByToken(ctx context.Context, plain string, now time.Time) (APIToken, error) {
	if !strings.HasPrefix(plain, APITokenPrefix) {
		return APIToken{}, fmt.Errorf("auth: api token: %w", models.ErrNotFound)
	}
	var tok APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", randtoken.Hash(plain)).Take(&tok).Error
	if err != nil {
		return APIToken{}, fmt.Errorf("auth: api token: %w", notFound(err))
	}
	now = now.UTC()
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= apiTokenTouchEvery {
		err := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", tok.ID).Update("last_used_at", now).Error
		if err != nil {
			return APIToken{}, fmt.Errorf("auth: record use of api token %d: %w", tok.ID, err)
		}
		tok.LastUsedAt = &now
	}
	return tok, nil
}

// APITokens lists every token, revoked ones included, newest first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var list []APIToken
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("auth: list api tokens: %w", err)
	}
	return list, nil
}

// RevokeAPIToken stops a token working. Revoking a revoked token keeps the
// first revocation time; an unknown id is models.ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, now time.Time) error {
	db := s.db.WithContext(ctx)
	res := db.Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now.UTC())
	if res.Error != nil {
		return fmt.Errorf("auth: revoke api token %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := db.Model(&APIToken{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return fmt.Errorf("auth: revoke api token %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("auth: revoke api token %d: %w", id, models.ErrNotFound)
		}
	}
	return nil
}
