package smile

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// ErrInvalidArgument is wrapped by the errors the client returns, without
// sending anything, for input Smile is documented to reject.
var ErrInvalidArgument = errors.New("smile: invalid argument")

// APIError is a non-2xx answer from the Smile API. Code, Message and RequestID
// come from Smile's response envelope (smile-api.md §4.2); when the body is not
// that envelope (say an HTML page from a proxy), Code and RequestID are empty
// and Message holds the HTTP status text and the start of the body.
type APIError struct {
	HTTPStatus int
	Code       string
	Message    string
	RequestID  string
	// Method and Path name the call, e.g. "GET" and "/accounts/a-…"; Path
	// carries no query string.
	Method string
	Path   string
}

// Error describes the failure with Smile's request id, which Smile support asks for.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "smile: %s %s: HTTP %d", e.Method, e.Path, e.HTTPStatus)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// maxErrorSnippet bounds how much of a non-JSON error body lands in APIError.Message.
const maxErrorSnippet = 200

// newAPIError builds the error for a non-2xx response from its raw body.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{HTTPStatus: status, Method: method, Path: path}
	var env struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestId"`
	}
	if err := json.Unmarshal(body, &env); err == nil && (env.Code != "" || env.Message != "") {
		e.Code, e.Message, e.RequestID = env.Code, env.Message, env.RequestID
		return e
	}
	e.Message = http.StatusText(status)
	if snippet := bodySnippet(body); snippet != "" {
		if e.Message == "" {
			e.Message = snippet
		} else {
			e.Message += ": " + snippet
		}
	}
	return e
}

// bodySnippet returns the start of a body as one printable line.
func bodySnippet(body []byte) string {
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxErrorSnippet {
		return s
	}
	cut := maxErrorSnippet
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// AsAPIError returns the *APIError in err's chain, if any.
func AsAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	ok := errors.As(err, &apiErr)
	return apiErr, ok
}

// IsNotFound reports whether err is Smile's 404 MISSING_RESOURCE.
func IsNotFound(err error) bool {
	e, ok := AsAPIError(err)
	return ok && (e.HTTPStatus == http.StatusNotFound || e.Code == CodeMissingResource)
}

// IsInvalidParameters reports whether Smile rejected the request's parameters.
func IsInvalidParameters(err error) bool {
	e, ok := AsAPIError(err)
	return ok && e.Code == CodeInvalidParameters
}

// IsInvalidCredentials reports whether Smile rejected the API key and secret.
// Smile documents that as HTTP 400 INVALID_CREDENTIALS (smile-api.md §4.2);
// a bare 401 is accepted too, so callers need not care which one arrives.
func IsInvalidCredentials(err error) bool {
	e, ok := AsAPIError(err)
	return ok && (e.Code == CodeInvalidCredentials || (e.HTTPStatus == http.StatusUnauthorized && e.Code == ""))
}

// IsRateLimited reports whether err is Smile's 429 REQUEST_LIMIT_EXCEEDED,
// returned once the client's retries are used up.
func IsRateLimited(err error) bool {
	e, ok := AsAPIError(err)
	return ok && (e.HTTPStatus == http.StatusTooManyRequests || e.Code == CodeRequestLimitExceeded)
}

// IsServerError reports whether err is a 5xx answer from Smile (or a proxy in front of it).
func IsServerError(err error) bool {
	e, ok := AsAPIError(err)
	return ok && e.HTTPStatus >= 500
}
