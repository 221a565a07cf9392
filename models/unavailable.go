package models

// IsUnavailable reports whether err means the database could not be locked
// or answer in time (SQLite busy or locked, a PostgreSQL lock or statement
// timeout, a cancelled or expired context) rather than that it refused the
// request: the HTTP layer answers 503 with Retry-After for these, since the
// same request may well succeed a moment later.
func IsUnavailable(err error) bool { return isUnavailable(err) }
