package models

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"smiledash/migrations"
)

// Roles an admin account or API token can have.
const (
	RoleAdmin  = "admin"  // everything
	RoleViewer = "viewer" // read-only
)

// Password limits. bcrypt reads at most 72 bytes; a longer password would be
// silently truncated, so it is refused instead.
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 72
)

// Errors of admin accounts and sign-in.
var (
	ErrAdminExists     = errors.New("models: an admin with this email already exists")
	ErrBadCredentials  = errors.New("models: email or password is incorrect")
	ErrInvalidEmail    = errors.New("models: not an email address")
	ErrInvalidRole     = errors.New("models: role must be admin or viewer")
	ErrPasswordTooWeak = fmt.Errorf("models: password must have at least %d characters", MinPasswordLength)
	ErrPasswordTooLong = fmt.Errorf("models: password must be at most %d bytes", MaxPasswordBytes)
)

// dummyHash is compared against when an email is unknown, so that a sign-in
// with an unknown email costs as much as one with a wrong password and timing
// does not tell which emails have accounts. Same cost as real hashes.
const dummyHash = "$2a$10$0VhDeiYMyVO7GmsWtl6OAerBsU8Sgw8nZPgCEz0MPxRoTBQTqebPu"

// Admin is a person who may sign in to the dashboard.
type Admin struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	Email        string     `gorm:"column:email"`
	PasswordHash string     `gorm:"column:password_hash" json:"-"`
	Role         string     `gorm:"column:role"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	LastSignInAt *time.Time `gorm:"column:last_sign_in_at"`
}

// TableName implements gorm's tabler.
func (Admin) TableName() string { return "admins" }

// IsAdmin reports whether the account may change things (not only view them).
func (a Admin) IsAdmin() bool { return a.Role == RoleAdmin }

// NewAdmin is what CreateAdmin needs.
type NewAdmin struct {
	Email    string
	Password string
	Role     string
}

// NormalizeEmail is the form emails are stored and compared in: trimmed and
// lowercased, so Alice@Example.com and alice@example.com are one account.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// ValidRole reports whether role is one an account or token may have.
func ValidRole(role string) bool { return role == RoleAdmin || role == RoleViewer }

// CheckPassword reports why a password may not be used, or nil.
func CheckPassword(password string) error {
	switch {
	case len([]rune(password)) < MinPasswordLength:
		return ErrPasswordTooWeak
	case len(password) > MaxPasswordBytes:
		return ErrPasswordTooLong
	}
	return nil
}

// CreateAdmin stores a new admin account with a bcrypt hash of the password.
// It returns ErrAdminExists when the email (in any case) is taken.
func (s *Store) CreateAdmin(ctx context.Context, in NewAdmin, now time.Time) (Admin, error) {
	email := NormalizeEmail(in.Email)
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return Admin{}, fmt.Errorf("models: create admin %q: %w", email, ErrInvalidEmail)
	}
	if !ValidRole(in.Role) {
		return Admin{}, fmt.Errorf("models: create admin %s: %w", email, ErrInvalidRole)
	}
	if err := CheckPassword(in.Password); err != nil {
		return Admin{}, fmt.Errorf("models: create admin %s: %w", email, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return Admin{}, fmt.Errorf("models: hash password: %w", err)
	}
	a := Admin{Email: email, PasswordHash: string(hash), Role: in.Role, CreatedAt: now.UTC()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a)
	if res.Error != nil {
		return Admin{}, fmt.Errorf("models: create admin %s: %w", email, res.Error)
	}
	if res.RowsAffected == 0 {
		return Admin{}, fmt.Errorf("models: create admin %s: %w", email, ErrAdminExists)
	}
	return a, nil
}

// CreateFirstAdmin creates the account only when no admin exists yet, and
// reports whether it did. Replicas starting together create at most one each
// of the same email, and the unique email keeps that to one.
func (s *Store) CreateFirstAdmin(ctx context.Context, in NewAdmin, now time.Time) (bool, error) {
	n, err := s.AdminCount(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	if _, err := s.CreateAdmin(ctx, in, now); err != nil {
		if errors.Is(err, ErrAdminExists) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// AdminCount returns how many admin accounts exist (of either role).
func (s *Store) AdminCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&Admin{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("models: count admins: %w", err)
	}
	return n, nil
}

// AdminByEmail returns the account with that email, in any case, or ErrNotFound.
func (s *Store) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	var a Admin
	err := s.db.WithContext(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&a).Error
	if err != nil {
		return Admin{}, fmt.Errorf("models: admin by email: %w", notFound(err))
	}
	return a, nil
}

// Admins lists every account, by email.
func (s *Store) Admins(ctx context.Context) ([]Admin, error) {
	var list []Admin
	if err := s.db.WithContext(ctx).Order("email").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("models: list admins: %w", err)
	}
	return list, nil
}

// Errors of managing admin accounts.
var (
	ErrLastAdmin  = errors.New("models: the last admin cannot lose the admin role or be removed")
	ErrOwnAccount = errors.New("models: admins cannot change their own role or remove themselves")
)

// AdminByID returns the account with that id, or ErrNotFound.
func (s *Store) AdminByID(ctx context.Context, id int64) (Admin, error) {
	var a Admin
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return Admin{}, fmt.Errorf("models: admin %d: %w", id, notFound(err))
	}
	return a, nil
}

// NewPassword returns a random password of 24 URL-safe characters (144 bits),
// for an account whose creator lets smiledash choose.
func NewPassword() (string, error) { return randomToken(18) }

// SetAdminRole gives the account id the role, on behalf of the admin by. It
// refuses to change by's own role (ErrOwnAccount) and to demote the last
// admin (ErrLastAdmin), so someone can always manage the dashboard. It returns
// the account as it was before.
func (s *Store) SetAdminRole(ctx context.Context, id int64, role string, by int64) (Admin, error) {
	if !ValidRole(role) {
		return Admin{}, fmt.Errorf("models: set role of admin %d: %w", id, ErrInvalidRole)
	}
	return s.changeAdmin(ctx, id, by, role != RoleAdmin, func(tx *gorm.DB) error {
		return tx.Model(&Admin{}).Where("id = ?", id).Update("role", role).Error
	})
}

// RemoveAdmin deletes the account id (its sessions end with it), on behalf
// of the admin by, with SetAdminRole's protections. It returns the removed
// account.
func (s *Store) RemoveAdmin(ctx context.Context, id int64, by int64) (Admin, error) {
	return s.changeAdmin(ctx, id, by, true, func(tx *gorm.DB) error {
		return tx.Where("id = ?", id).Delete(&Admin{}).Error
	})
}

// changeAdmin runs change on account id in a transaction that first locks
// every admin-role row (PostgreSQL; SQLite transactions here take the write
// lock at BEGIN), so two admins demoting each other at once cannot leave none.
// losesAdmin says whether the change takes the admin role away from id.
func (s *Store) changeAdmin(ctx context.Context, id, by int64, losesAdmin bool, change func(tx *gorm.DB) error) (Admin, error) {
	if id == by {
		return Admin{}, fmt.Errorf("models: change admin %d: %w", id, ErrOwnAccount)
	}
	var before Admin
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		admins := tx.Model(&Admin{}).Where("role = ?", RoleAdmin).Order("id")
		if s.dialect == migrations.Postgres {
			admins = admins.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var adminIDs []int64
		if err := admins.Pluck("id", &adminIDs).Error; err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Take(&before).Error; err != nil {
			return notFound(err)
		}
		if losesAdmin && before.Role == RoleAdmin && len(adminIDs) <= 1 {
			return ErrLastAdmin
		}
		return change(tx)
	})
	if err != nil {
		return Admin{}, fmt.Errorf("models: change admin %d: %w", id, err)
	}
	return before, nil
}

// Authenticate checks an email and password and returns the account, recording
// the sign-in time. Unknown emails and wrong passwords both return
// ErrBadCredentials after a bcrypt comparison, so neither answers faster.
func (s *Store) Authenticate(ctx context.Context, email, password string, now time.Time) (Admin, error) {
	a, err := s.AdminByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return Admin{}, ErrBadCredentials
	case err != nil:
		return Admin{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return Admin{}, ErrBadCredentials
	}
	at := now.UTC()
	if err := s.db.WithContext(ctx).Model(&Admin{}).Where("id = ?", a.ID).Update("last_sign_in_at", at).Error; err != nil {
		return Admin{}, fmt.Errorf("models: record sign-in of admin %d: %w", a.ID, err)
	}
	a.LastSignInAt = &at
	return a, nil
}

// Sign-in throttling: at most LoginFailuresPerEmail failed sign-ins for one
// email and LoginFailuresPerIP from one address within LoginThrottleWindow.
// Failures are stored in the database, so every replica counts the same ones.
const (
	LoginFailuresPerEmail = 5
	LoginFailuresPerIP    = 20
	LoginThrottleWindow   = 15 * time.Minute
)

type loginAttempt struct {
	ID    int64     `gorm:"column:id;primaryKey"`
	At    time.Time `gorm:"column:at"`
	Email string    `gorm:"column:email"`
	IP    string    `gorm:"column:ip"`
}

func (loginAttempt) TableName() string { return "login_attempts" }

// LoginRetryAfter returns how long sign-ins for the email or from the IP must
// wait, or zero when they may proceed.
func (s *Store) LoginRetryAfter(ctx context.Context, email, ip string, now time.Time) (time.Duration, error) {
	now = now.UTC()
	var wait time.Duration
	for _, k := range []struct {
		column, value string
		limit         int
	}{{"email", attemptEmail(email), LoginFailuresPerEmail}, {"ip", clipText(ip, 64), LoginFailuresPerIP}} {
		// The limit-th most recent failure in the window: once it leaves the
		// window, fewer than limit remain. One indexed row read, no COUNT.
		var at []time.Time
		err := s.db.WithContext(ctx).Model(&loginAttempt{}).
			Where(k.column+" = ? AND at > ?", k.value, now.Add(-LoginThrottleWindow)).
			Order("at DESC").Offset(k.limit-1).Limit(1).Pluck("at", &at).Error
		if err != nil {
			return 0, fmt.Errorf("models: login attempts by %s: %w", k.column, err)
		}
		if len(at) == 1 {
			wait = max(wait, at[0].Add(LoginThrottleWindow).Sub(now))
		}
	}
	if wait > 0 {
		wait = max(wait.Round(time.Second), time.Second)
	}
	return wait, nil
}

// RecordLoginFailure counts a failed sign-in and prunes failures that have left
// the throttle window.
func (s *Store) RecordLoginFailure(ctx context.Context, email, ip string, now time.Time) error {
	now = now.UTC()
	db := s.db.WithContext(ctx)
	if err := db.Create(&loginAttempt{At: now, Email: attemptEmail(email), IP: clipText(ip, 64)}).Error; err != nil {
		return fmt.Errorf("models: record login failure: %w", err)
	}
	if err := db.Where("at <= ?", now.Add(-LoginThrottleWindow)).Delete(&loginAttempt{}).Error; err != nil {
		return fmt.Errorf("models: prune login attempts: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets an email's failures after it signs in. Failures
// by address are kept: one valid account must not reset an address's count.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) error {
	err := s.db.WithContext(ctx).Where("email = ?", attemptEmail(email)).Delete(&loginAttempt{}).Error
	if err != nil {
		return fmt.Errorf("models: clear login failures: %w", err)
	}
	return nil
}

// attemptEmail is how an email is counted: normalized and bounded, since
// anyone may type anything into the form.
func attemptEmail(email string) string { return clipText(NormalizeEmail(email), 320) }
