package smile

import (
	"fmt"
	"time"
)

// Response codes Smile puts in the `code` field of every REST response
// (smile-api.md §4.2). CodeUnsupportedType is listed in Smile's error table but
// missing from the spec's enum (smile-api.md §8 item 19).
const (
	CodeOK                   = "OK"
	CodeCreated              = "CREATED"
	CodeInvalidCredentials   = "INVALID_CREDENTIALS"
	CodeInvalidParameters    = "INVALID_PARAMETERS"
	CodeInvalidToken         = "INVALID_TOKEN"
	CodeUnauthorizedAccess   = "UNAUTHORIZED_ACCESS"
	CodeMissingResource      = "MISSING_RESOURCE"
	CodeRequestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
	CodeServerError          = "SERVER_ERROR"
	CodeUnsupportedMethod    = "UNSUPPORTED_METHOD"
	CodeServerUnavailable    = "SERVER_UNAVAILABLE"
	CodeTimeLimitExceeded    = "TIME_LIMIT_EXCEEDED"
	CodeUnsupportedType      = "UNSUPPORTED_TYPE"
)

// Connection statuses of an account (smile-api.md §5.2).
const (
	ConnectionPending      = "PENDING"
	ConnectionAwaitingMFA  = "AWAITING_MFA"
	ConnectionError        = "ERROR"
	ConnectionConnected    = "CONNECTED"
	ConnectionDisconnected = "DISCONNECTED"
)

// Monitor (Continuous Data Sync) statuses of an account (smile-api.md §5.2).
const (
	MonitorUnsupported        = "UNSUPPORTED"
	MonitorActive             = "ACTIVE"
	MonitorUserActionRequired = "USER_ACTION_REQUIRED"
	MonitorCustomerDisabled   = "CUSTOMER_DISABLED"
)

// Token modes: each API key works in one mode only (smile-api.md §4.1).
const (
	ModeSandbox    = "SANDBOX"
	ModeProduction = "PRODUCTION"
)

// Limits Smile puts on a user's externalMetadata (smile-api.md §4.4).
const (
	MaxExternalMetadataPairs    = 5
	MaxExternalMetadataKeyLen   = 50
	MaxExternalMetadataValueLen = 500
)

// MaxPageSize is the largest `size` a list endpoint accepts (smile-api.md §4.3).
const MaxPageSize = 150

// User is a Smile user: the person who links accounts (smile-api.md §4.4).
type User struct {
	ID               string            `json:"id"`
	ExternalMetadata map[string]string `json:"externalMetadata"`
	CreatedAt        time.Time         `json:"createdAt"`
	// Providers lists provider ids with shared data; deprecated by Smile.
	Providers []string `json:"providers"`
	// Session is in the spec only (smile-api.md §4.4); UserSession is shared
	// with the USER_SESSION_* events.
	Session *UserSession `json:"session,omitempty"`
}

// Token is a short-lived Link token handed to the Wink Widget as `userToken`.
type Token struct {
	ID          string    `json:"id,omitempty"`
	AccessToken string    `json:"accessToken"`
	ExpiresAt   time.Time `json:"expiresAt"`
	Mode        string    `json:"mode"`
}

// Account is a user's link to one data provider (smile-api.md §5.2).
type Account struct {
	ID               string            `json:"id"`
	CreatedAt        time.Time         `json:"createdAt"`
	ProviderID       string            `json:"providerId"`
	UserID           string            `json:"userId"`
	ConnectionStatus string            `json:"connectionStatus"`
	Connection       AccountConnection `json:"connection"`
	MonitorStatus    string            `json:"monitorStatus"`
	Monitor          AccountMonitor    `json:"monitor"`
}

// AccountConnection is the connection state of an account. ErrorCode holds one
// of the codes of smile-api.md §5.3 when Status is ERROR, and is nil otherwise.
type AccountConnection struct {
	Status       string    `json:"status"`
	ErrorCode    *string   `json:"errorCode"`
	ErrorMessage *string   `json:"errorMessage"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// AccountMonitor is the Continuous Data Sync state of an account.
type AccountMonitor struct {
	Status    string     `json:"status"`
	UpdatedAt *time.Time `json:"updatedAt"`
}

// AccountPage is one page of GET /accounts. NextCursor is empty on the last page.
type AccountPage struct {
	Items      []Account
	NextCursor string
}

// Webhook is a registered webhook endpoint (smile-api.md §2.5).
type Webhook struct {
	ID             string    `json:"id"`
	CreatedAt      time.Time `json:"createdAt"`
	Name           string    `json:"name"`
	URL            string    `json:"url"`
	Secret         string    `json:"secret,omitempty"`
	EventTypes     []string  `json:"eventTypes"`
	Active         bool      `json:"active"`
	IncludePayload bool      `json:"includePayload"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// WebhookRequest is the body of POST /webhooks. All fields but IncludePayload
// are required by Smile; Active must be true or nothing is delivered.
type WebhookRequest struct {
	Name           string   `json:"name"`
	URL            string   `json:"url"`
	EventTypes     []string `json:"eventTypes"`
	Active         bool     `json:"active"`
	Secret         string   `json:"secret"`
	IncludePayload bool     `json:"includePayload"`
}

// WebhookPage is one page of GET /webhooks. NextCursor is empty on the last page.
type WebhookPage struct {
	Items      []Webhook
	NextCursor string
}

// ValidateExternalMetadata checks Smile's documented limits on externalMetadata:
// at most 5 pairs, ASCII only, keys of at most 50 characters, values
// of at most 500 characters. Its errors wrap ErrInvalidArgument and never
// repeat a value.
func ValidateExternalMetadata(m map[string]string) error {
	if len(m) > MaxExternalMetadataPairs {
		return fmt.Errorf("%w: external metadata has %d pairs, max %d", ErrInvalidArgument, len(m), MaxExternalMetadataPairs)
	}
	for k, v := range m {
		switch {
		case len(k) > MaxExternalMetadataKeyLen:
			return fmt.Errorf("%w: external metadata key %.20q is %d chars, max %d", ErrInvalidArgument, k, len(k), MaxExternalMetadataKeyLen)
		case len(v) > MaxExternalMetadataValueLen:
			return fmt.Errorf("%w: external metadata value of %q is %d chars, max %d", ErrInvalidArgument, k, len(v), MaxExternalMetadataValueLen)
		case !isASCII(k):
			return fmt.Errorf("%w: external metadata key %q is not ASCII", ErrInvalidArgument, k)
		case !isASCII(v):
			return fmt.Errorf("%w: external metadata value of %q is not ASCII", ErrInvalidArgument, k)
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > 0x7f {
			return false
		}
	}
	return true
}

// IsAccountErrorCode reports whether code is one of the account error codes of
// smile-api.md §5.3.
func IsAccountErrorCode(code string) bool {
	return AccountErrorMessage(code) != ""
}

// AccountErrorMessage returns a short English description of an account error
// code (paraphrasing smile-api.md §5.3), or "" for an unknown code.
func AccountErrorMessage(code string) string {
	switch code {
	case "ACCOUNT_DISABLED":
		return "Account is disabled"
	case "ACCOUNT_INACCESSIBLE":
		return "Account is inaccessible"
	case "ACCOUNT_INCOMPLETE":
		return "Account is incomplete"
	case "ACCOUNT_LOCKED":
		return "Account is locked"
	case "AUTH_REQUIRED":
		return "Credentials are required"
	case "EXPIRED_CREDENTIALS":
		return "Credentials have expired"
	case "INVALID_ACCOUNT_TYPE":
		return "Account type is not valid"
	case "INVALID_AUTH":
		return "Authentication failed"
	case "INVALID_CREDENTIALS":
		return "Credentials are invalid"
	case "INVALID_MFA":
		return "MFA code is invalid"
	case "MFA_TIMEOUT":
		return "MFA timed out"
	case "SERVICE_UNAVAILABLE":
		return "Provider is unavailable"
	case "SYSTEM_ERROR":
		return "System error"
	case "TOS_REQUIRED":
		return "Terms of service must be accepted"
	case "UNSUPPORTED_AUTH_TYPE":
		return "Authentication type is not supported"
	case "UNSUPPORTED_MFA_METHOD":
		return "MFA method is not supported"
	}
	return ""
}

// IsConnectionStatus reports whether s is an account connection status.
func IsConnectionStatus(s string) bool {
	switch s {
	case ConnectionPending, ConnectionAwaitingMFA, ConnectionError, ConnectionConnected, ConnectionDisconnected:
		return true
	}
	return false
}
