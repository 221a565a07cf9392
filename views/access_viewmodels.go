package views

import "time"

// AdminsPageVM is /admin/admins: every account, a form to add one, and what
// the last action did.
type AdminsPageVM struct {
	LayoutVM
	Admins []AdminRowVM
	Form   AdminFormVM
	// Created is the account just made; its Password is set only when
	// smiledash chose it, and is shown this once.
	Created *CreatedAdminVM
	// Problem says why the last change was refused (last admin, own account).
	Problem string
}

// AdminRowVM is one account in the list.
type AdminRowVM struct {
	ID                 int64
	Email, Role        string
	CreatedAt          time.Time
	LastSignInAt       time.Time // zero if never
	IsYou              bool
	RoleURL, RemoveURL string
}

// AdminFormVM is the create-admin form and its field errors.
type AdminFormVM struct {
	Email, Role string
	Errors      map[string]string
}

// CreatedAdminVM is the account just created.
type CreatedAdminVM struct {
	Email, Role, Password string
}

// TokensPageVM is /admin/tokens: every API token, a form to create one, and
// the token just created, shown once.
type TokensPageVM struct {
	LayoutVM
	Tokens  []TokenRowVM
	Form    TokenFormVM
	Created *CreatedTokenVM
}

// TokenRowVM is one API token in the list; only its prefix is known.
type TokenRowVM struct {
	ID                            int64
	Name, Role, Prefix, CreatedBy string
	CreatedAt, LastUsedAt         time.Time // LastUsedAt zero if never
	RevokedAt                     time.Time // zero while it works
	RevokeURL                     string
}

// TokenFormVM is the create-token form and its field errors.
type TokenFormVM struct {
	Name, Role string
	Errors     map[string]string
}

// CreatedTokenVM is a token just created, in plain text this once.
type CreatedTokenVM struct {
	Name, Role, Token string
}

// AuditPageVM is /admin/audit, newest first, keyset-paged.
type AuditPageVM struct {
	LayoutVM
	Entries []AuditRowVM
	// Action filters by action; Actions are the choices.
	Action   string
	Actions  []string
	OlderURL string
}

// AuditRowVM is one audit entry.
type AuditRowVM struct {
	At                             time.Time
	Actor, Action, Target, Details string
}
