package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"smiledash/models"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"smiledash/migrations"
	"smiledash/models/internal/randtoken"
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
	ErrAdminExists     = errors.New("auth: an admin with this email already exists")
	ErrBadCredentials  = errors.New("auth: email or password is incorrect")
	ErrInvalidEmail    = errors.New("auth: not an email address")
	ErrInvalidRole     = errors.New("auth: role must be admin or viewer")
	ErrPasswordTooWeak = fmt.Errorf("auth: password must have at least %d characters", MinPasswordLength)
	ErrPasswordTooLong = fmt.Errorf("auth: password must be at most %d bytes", MaxPasswordBytes)
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

// AuditActor names the admin in audit entries (models.AuditEntry.ByAdmin).
func (a Admin) AuditActor() (int64, string) { return a.ID, a.Email }

var _ models.Actor = Admin{}

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
		return Admin{}, fmt.Errorf("auth: create admin %q: %w", email, ErrInvalidEmail)
	}
	if !ValidRole(in.Role) {
		return Admin{}, fmt.Errorf("auth: create admin %s: %w", email, ErrInvalidRole)
	}
	if err := CheckPassword(in.Password); err != nil {
		return Admin{}, fmt.Errorf("auth: create admin %s: %w", email, err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return Admin{}, fmt.Errorf("auth: hash password: %w", err)
	}
	a := Admin{Email: email, PasswordHash: string(hash), Role: in.Role, CreatedAt: now.UTC()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&a)
	if res.Error != nil {
		return Admin{}, fmt.Errorf("auth: create admin %s: %w", email, res.Error)
	}
	if res.RowsAffected == 0 {
		return Admin{}, fmt.Errorf("auth: create admin %s: %w", email, ErrAdminExists)
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
		return 0, fmt.Errorf("auth: count admins: %w", err)
	}
	return n, nil
}

// AdminByEmail returns the account with that email, in any case, or models.ErrNotFound.
func (s *Store) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	var a Admin
	err := s.db.WithContext(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&a).Error
	if err != nil {
		return Admin{}, fmt.Errorf("auth: admin by email: %w", notFound(err))
	}
	return a, nil
}

// Admins lists every account, by email.
func (s *Store) Admins(ctx context.Context) ([]Admin, error) {
	var list []Admin
	if err := s.db.WithContext(ctx).Order("email").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("auth: list admins: %w", err)
	}
	return list, nil
}

// Errors of managing admin accounts.
var (
	ErrLastAdmin  = errors.New("auth: the last admin cannot lose the admin role or be removed")
	ErrOwnAccount = errors.New("auth: admins cannot change their own role or remove themselves")
)

// AdminByID returns the account with that id, or models.ErrNotFound.
func (s *Store) AdminByID(ctx context.Context, id int64) (Admin, error) {
	var a Admin
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return Admin{}, fmt.Errorf("auth: admin %d: %w", id, notFound(err))
	}
	return a, nil
}

// NewPassword returns a random password of 24 URL-safe characters (144 bits),
// for an account whose creator lets smiledash choose.
func NewPassword() (string, error) { return randtoken.New(18) }

// SetAdminRole gives the account id the role, on behalf of the admin by. It
// refuses to change by's own role (ErrOwnAccount) and to demote the last
// admin (ErrLastAdmin), so someone can always manage the dashboard. It returns
// the account as it was before.
func (s *Store) SetAdminRole(ctx context.Context, id int64, role string, by int64) (Admin, error) {
	if !ValidRole(role) {
		return Admin{}, fmt.Errorf("auth: set role of admin %d: %w", id, ErrInvalidRole)
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
		return Admin{}, fmt.Errorf("auth: change admin %d: %w", id, ErrOwnAccount)
	}
	var before Admin
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		admins := tx.Model(&Admin{}).Where("role = ?", RoleAdmin).Order("id")
		if s.models.Dialect() == migrations.Postgres {
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
		return Admin{}, fmt.Errorf("auth: change admin %d: %w", id, err)
	}
	return before, nil
}

// Authenticate checks an email and password and returns the account, recording
// the sign-in time. Unknown emails and wrong passwords both return
// ErrBadCredentials after a bcrypt comparison, so neither answers faster.
func (s *Store) Authenticate(ctx context.Context, email, password string, now time.Time) (Admin, error) {
	a, err := s.AdminByEmail(ctx, email)
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.passwordChecks.Add(1)
		_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(password))
		return Admin{}, ErrBadCredentials
	case err != nil:
		return Admin{}, err
	}
	s.passwordChecks.Add(1)
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil {
		return Admin{}, ErrBadCredentials
	}
	at := now.UTC()
	if err := s.db.WithContext(ctx).Model(&Admin{}).Where("id = ?", a.ID).Update("last_sign_in_at", at).Error; err != nil {
		return Admin{}, fmt.Errorf("auth: record sign-in of admin %d: %w", a.ID, err)
	}
	a.LastSignInAt = &at
	return a, nil
}

// Sign-in throttling (OWASP's "device cookies"): every attempt is counted
// before its password is checked, atomically, in the database, so parallel
// guesses cannot slip past the limit and every replica counts the same ones.
// A browser without a valid device cookie for the email is limited per (email,
// address) and per address; one with such a cookie (it signed in as that admin
// before) only by its own counter, so a guesser elsewhere, or on the same
// network, cannot lock the real admin out. A right password gives its attempt
// back, so the limits count failures.
const (
	LoginFailuresPerEmail  = 5  // per (email, address), browsers without a device cookie
	LoginFailuresPerIP     = 20 // per address, browsers without a device cookie
	LoginFailuresPerDevice = 10 // per device cookie
	LoginThrottleWindow    = 15 * time.Minute
)

// SignInAttempt is who is trying to sign in.
type SignInAttempt struct {
	Email string
	IP    string
	// Device is the id of the browser's valid device cookie for Email (see
	// DeviceFor), or empty.
	Device string
}

// signInLimits are the counters an attempt takes from, narrowest first.
func signInLimits(at SignInAttempt) []string {
	if at.Device != "" {
		return []string{models.ThrottleKey("signin:device", at.Device)}
	}
	return []string{
		models.ThrottleKey("signin:email-ip", attemptEmail(at.Email), at.IP),
		models.ThrottleKey("signin:ip", at.IP),
	}
}

func signInThrottle(key string) models.Throttle {
	switch {
	case strings.HasPrefix(key, "signin:device:"):
		return models.Throttle{Max: LoginFailuresPerDevice, Window: LoginThrottleWindow}
	case strings.HasPrefix(key, "signin:ip:"):
		return models.Throttle{Max: LoginFailuresPerIP, Window: LoginThrottleWindow}
	}
	return models.Throttle{Max: LoginFailuresPerEmail, Window: LoginThrottleWindow}
}

// TakeSignIn counts one sign-in attempt before its password is checked. It
// returns zero when the attempt may go on, or how long to wait (whole
// seconds, at least one) when a limit refuses it; a refused attempt takes
// nothing from the other limits.
func (s *Store) TakeSignIn(ctx context.Context, at SignInAttempt, now time.Time) (time.Duration, error) {
	keys := signInLimits(at)
	for i, key := range keys {
		v, err := s.models.TakeThrottle(ctx, key, signInThrottle(key), 1, now)
		if err != nil {
			return 0, fmt.Errorf("auth: sign-in throttle: %w", err)
		}
		if v.Allowed {
			continue
		}
		for _, taken := range keys[:i] {
			if err := s.models.RefundThrottle(ctx, taken, 1, now); err != nil {
				return 0, err
			}
		}
		return max(v.RetryAfter.Round(time.Second), time.Second), nil
	}
	return 0, nil
}

// SignInSucceeded gives back what a right password's attempt took: the
// (email, address) or device window is forgotten, and the address gets its
// attempt back (one valid account must not reset an address's failures).
func (s *Store) SignInSucceeded(ctx context.Context, at SignInAttempt, now time.Time) error {
	keys := signInLimits(at)
	if err := s.models.ResetThrottle(ctx, keys[0]); err != nil {
		return err
	}
	for _, key := range keys[1:] {
		if err := s.models.RefundThrottle(ctx, key, 1, now); err != nil {
			return err
		}
	}
	return nil
}

// PasswordChecks counts the bcrypt comparisons this store has made: tests
// use it to prove throttled sign-ins never reach one.
func (s *Store) PasswordChecks() int64 { return s.passwordChecks.Load() }

// attemptEmail is how an email is counted: normalized, since anyone may type
// anything into the form (the key is a hash, so length and bytes do not matter).
func attemptEmail(email string) string { return NormalizeEmail(email) }
