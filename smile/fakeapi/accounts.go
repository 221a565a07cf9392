package fakeapi

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"smiledash/smile"
)

type accountRecord struct {
	seq     uint64
	account smile.Account
}

const accountCursorKind = "accounts"

// listAccounts serves GET /accounts, optionally filtered by userId, oldest first.
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, _ []string) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	after, ok := decodeCursor(w, r, accountCursorKind)
	if !ok {
		return
	}
	userID := r.URL.Query().Get("userId")
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []*accountRecord
	if userID != "" {
		if u := s.users[userID]; u != nil {
			recs = u.accounts // already in creation order
		}
	} else {
		recs = make([]*accountRecord, 0, len(s.accounts))
		for _, a := range s.accounts {
			recs = append(recs, a)
		}
		slices.SortFunc(recs, func(a, b *accountRecord) int { return cmp.Compare(a.seq, b.seq) })
	}
	page, next := paginate(recs, func(a *accountRecord) uint64 { return a.seq }, after, size, accountCursorKind)
	items := make([]smile.Account, len(page))
	for i, a := range page {
		items[i] = copyAccount(a.account)
	}
	writeData(w, http.StatusOK, listData[smile.Account]{NextCursor: next, Items: items})
}

// getAccount serves GET /accounts/{id}.
func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[segs[1]]
	if a == nil {
		notFound(w, "Account")
		return
	}
	writeData(w, http.StatusOK, copyAccount(a.account))
}

// deleteAccount serves DELETE /accounts/{id}: the account and its data go.
func (s *Server) deleteAccount(w http.ResponseWriter, _ *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[segs[1]]
	if a == nil {
		notFound(w, "Account")
		return
	}
	delete(s.accounts, a.account.ID)
	if u := s.users[a.account.UserID]; u != nil {
		u.accounts = slices.DeleteFunc(u.accounts, func(x *accountRecord) bool { return x == a })
	}
	writeEnvelope(w, http.StatusOK, envelope{Code: smile.CodeOK, Message: "Success"})
}

// AddAccount records that a user linked providerID through the widget: it
// creates the user's account for that provider, or updates it if one exists,
// with the given connection status (PENDING, AWAITING_MFA, ERROR, CONNECTED or
// DISCONNECTED). errorCode, one of smile-api.md §5.3, is allowed only with
// ERROR; its message is filled in from the code.
func (s *Server) AddAccount(userID, providerID, status string, errorCode *string) (smile.Account, error) {
	if providerID == "" {
		return smile.Account{}, fmt.Errorf("%w: empty provider id", ErrInvalid)
	}
	if err := checkStatus(status, errorCode); err != nil {
		return smile.Account{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return smile.Account{}, fmt.Errorf("fakeapi: add account for user %q: %w", userID, ErrNotFound)
	}
	for _, a := range u.accounts {
		if a.account.ProviderID == providerID {
			s.setStatus(a, status, errorCode, nil)
			return copyAccount(a.account), nil
		}
	}
	now := s.now()
	a := &accountRecord{seq: s.nextSeq(), account: smile.Account{
		ID:            "a-" + randomHex(16),
		CreatedAt:     now,
		ProviderID:    providerID,
		UserID:        userID,
		MonitorStatus: smile.MonitorUnsupported,
		Monitor:       smile.AccountMonitor{Status: smile.MonitorUnsupported},
	}}
	s.setStatus(a, status, errorCode, nil)
	s.accounts[a.account.ID] = a
	u.accounts = append(u.accounts, a)
	return copyAccount(a.account), nil
}

// SetAccountStatus moves an account to a new connection status. errorCode and
// errorMessage are allowed only with ERROR; a nil errorMessage is filled in
// from errorCode.
func (s *Server) SetAccountStatus(accountID, status string, errorCode, errorMessage *string) error {
	if err := checkStatus(status, errorCode); err != nil {
		return err
	}
	if errorMessage != nil && status != smile.ConnectionError {
		return fmt.Errorf("%w: error message given for status %s", ErrInvalid, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return fmt.Errorf("fakeapi: set status of account %q: %w", accountID, ErrNotFound)
	}
	s.setStatus(a, status, errorCode, errorMessage)
	return nil
}

// Accounts returns a user's accounts, oldest first, as GET /accounts would.
func (s *Server) Accounts(userID string) []smile.Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	if u == nil {
		return nil
	}
	out := make([]smile.Account, len(u.accounts))
	for i, a := range u.accounts {
		out[i] = copyAccount(a.account)
	}
	return out
}

func checkStatus(status string, errorCode *string) error {
	if !smile.IsConnectionStatus(status) {
		return fmt.Errorf("%w: connection status %q", ErrInvalid, status)
	}
	if errorCode == nil {
		return nil
	}
	if status != smile.ConnectionError {
		return fmt.Errorf("%w: error code given for status %s", ErrInvalid, status)
	}
	if !smile.IsAccountErrorCode(*errorCode) {
		return fmt.Errorf("%w: account error code %q", ErrInvalid, *errorCode)
	}
	return nil
}

// setStatus updates the connection; s.mu must be held and the input checked.
func (s *Server) setStatus(a *accountRecord, status string, errorCode, errorMessage *string) {
	conn := smile.AccountConnection{Status: status, UpdatedAt: s.now()}
	if errorCode != nil {
		conn.ErrorCode = ptr(*errorCode)
		if errorMessage == nil {
			conn.ErrorMessage = ptr(smile.AccountErrorMessage(*errorCode))
		}
	}
	if errorMessage != nil {
		conn.ErrorMessage = ptr(*errorMessage)
	}
	a.account.ConnectionStatus = status
	a.account.Connection = conn
}

// copyAccount deep-copies an account so callers never share its pointers.
func copyAccount(a smile.Account) smile.Account {
	if a.Connection.ErrorCode != nil {
		a.Connection.ErrorCode = ptr(*a.Connection.ErrorCode)
	}
	if a.Connection.ErrorMessage != nil {
		a.Connection.ErrorMessage = ptr(*a.Connection.ErrorMessage)
	}
	if a.Monitor.UpdatedAt != nil {
		a.Monitor.UpdatedAt = ptr(*a.Monitor.UpdatedAt)
	}
	return a
}

func ptr[T any](v T) *T { return &v }
