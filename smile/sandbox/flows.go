package sandbox

import (
	"slices"
	"time"

	"smiledash/smile"
	"smiledash/smile/simulate"
)

// Attempt is the outcome of a login in the sandbox widget.
type Attempt struct {
	AccountID  string `json:"accountId"`
	UserID     string `json:"userId"`
	ProviderID string `json:"providerId"`
	Connected  bool   `json:"connected"`
	// ErrorCode is an account error code (smile-api.md §5.3) when not Connected.
	ErrorCode string `json:"errorCode,omitempty"`
}

// Login is the person submitting a provider's login form. The account is
// created at once (PENDING, ACCOUNT_CREATED); a sandbox test login then
// connects it (ACCOUNT_CONNECTED, TASK_STARTED, the data *_ADDED events and
// TASK_FINISHED), anything else fails it (ACCOUNT_FAILED, INVALID_CREDENTIALS).
// The fake API's account status moves when the matching webhook is sent.
func (s *Simulator) Login(token, providerID, login, password string) (Attempt, error) {
	userID, err := s.user(token)
	if err != nil {
		return Attempt{}, err
	}
	login = trimLogin(login)
	switch {
	case !knownProvider(providerID):
		return Attempt{}, invalid("unknown provider %q", providerID)
	case login == "" || len(login) > maxLoginLen:
		return Attempt{}, invalid("login name must be 1 to %d characters", maxLoginLen)
	case len(password) > maxPasswordLen:
		return Attempt{}, invalid("password is longer than %d characters", maxPasswordLen)
	}
	acc, err := s.opts.API.AddAccount(userID, providerID, smile.ConnectionPending, nil)
	if err != nil {
		return Attempt{}, err
	}
	a := Attempt{AccountID: acc.ID, UserID: userID, ProviderID: providerID, Connected: CheckLogin(login, password)}
	if !a.Connected {
		a.ErrorCode = "INVALID_CREDENTIALS"
	}
	evs := s.flow(func(g *simulate.Generator, at time.Time) []simulate.Event {
		if a.Connected {
			return g.AccountConnectedFlow(userID, acc.ID, providerID, login, at)
		}
		return g.AccountFailedFlow(userID, acc.ID, providerID, login, a.ErrorCode, at)
	})
	s.schedule(userID, evs, func(ev simulate.Event) func() {
		switch ev.Type {
		case smile.AccountConnected:
			return func() { s.setStatus(acc.ID, smile.ConnectionConnected, nil) }
		case smile.AccountFailed:
			return func() { s.setStatus(acc.ID, smile.ConnectionError, &a.ErrorCode) }
		}
		return nil
	})
	return a, nil
}

func (s *Simulator) setStatus(accountID, status string, code *string) {
	if err := s.opts.API.SetAccountStatus(accountID, status, code, nil); err != nil {
		s.opts.Log.Warn("Sandbox could not update an account", "account_id", accountID, "error", err)
	}
}

// RemoveAccount is the person revoking a linked account from the widget: the
// account becomes DISCONNECTED as ACCOUNT_DISCONNECTED is sent (after any of
// the user's webhooks still queued, so the fake API ends in the same state).
func (s *Simulator) RemoveAccount(token, accountID string) (Attempt, error) {
	userID, err := s.user(token)
	if err != nil {
		return Attempt{}, err
	}
	i := slices.IndexFunc(s.opts.API.Accounts(userID), func(a smile.Account) bool { return a.ID == accountID })
	if i < 0 {
		return Attempt{}, ErrNotYours
	}
	acc := s.opts.API.Accounts(userID)[i]
	evs := s.flow(func(g *simulate.Generator, at time.Time) []simulate.Event {
		return []simulate.Event{g.AccountDisconnected(userID, acc.ID, acc.ProviderID, at)}
	})
	s.schedule(userID, evs, func(simulate.Event) func() {
		return func() { s.setStatus(acc.ID, smile.ConnectionDisconnected, nil) }
	})
	return Attempt{AccountID: acc.ID, UserID: userID, ProviderID: acc.ProviderID}, nil
}

// Upload is an uploaded document as the widget reports it in onUploadsCreated,
// shaped like Smile's Archive object.
type Upload struct {
	ID         string      `json:"id"`
	CreatedAt  time.Time   `json:"createdAt"`
	ProviderID string      `json:"providerId"`
	UserID     string      `json:"userId"`
	Type       string      `json:"type"`
	State      UploadState `json:"state"`
}

// UploadState is an archive's processing state.
type UploadState struct {
	Status       string    `json:"status"`
	ErrorCode    *string   `json:"errorCode"`
	ErrorMessage *string   `json:"errorMessage"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Upload is the person uploading a document of fileType: ARCHIVE_STARTED, then
// ARCHIVE_ANALYZED once "analysis" is done.
func (s *Simulator) Upload(token, fileType string) (Upload, error) {
	userID, err := s.user(token)
	if err != nil {
		return Upload{}, err
	}
	if !slices.Contains(FileTypes(), fileType) {
		return Upload{}, invalid("unknown file type %q", fileType)
	}
	var id string
	evs := s.flow(func(g *simulate.Generator, at time.Time) []simulate.Event {
		id = g.NewArchiveID()
		s.archives[id] = userID
		return g.ArchiveFlow(userID, id, "", at)
	})
	s.schedule(userID, evs, nil)
	at := evs[0].CreatedAt
	return Upload{
		ID: id, CreatedAt: at, ProviderID: "user-provided", UserID: userID, Type: fileType,
		State: UploadState{Status: "STARTED", UpdatedAt: at},
	}, nil
}

// RemoveUpload is the person withdrawing an uploaded document: ARCHIVE_REVOKED.
func (s *Simulator) RemoveUpload(token, archiveID string) (Upload, error) {
	userID, err := s.user(token)
	if err != nil {
		return Upload{}, err
	}
	s.mu.Lock()
	mine := s.archives[archiveID] == userID
	s.mu.Unlock()
	if !mine {
		return Upload{}, ErrNotYours
	}
	evs := s.flow(func(g *simulate.Generator, at time.Time) []simulate.Event {
		return []simulate.Event{g.ArchiveRevoked(userID, archiveID, at)}
	})
	s.schedule(userID, evs, nil)
	at := evs[0].CreatedAt
	return Upload{ID: archiveID, CreatedAt: at, ProviderID: "user-provided", UserID: userID,
		State: UploadState{Status: "REVOKED", UpdatedAt: at}}, nil
}

// flow builds a user's next events with the generator (not safe for concurrent
// use, so under s.mu). The times the generator gives them only set the gaps
// between them: each webhook is dated when it is sent (schedule and drain), so
// none is ever dated ahead of the wall clock.
func (s *Simulator) flow(build func(g *simulate.Generator, at time.Time) []simulate.Event) []simulate.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return build(s.gen, s.opts.Now())
}
