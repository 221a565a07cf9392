package fakeapi

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"smiledash/smile"
)

type userRecord struct {
	seq       uint64
	id        string
	metadata  map[string]string
	createdAt time.Time
	accounts  []*accountRecord // in creation order
}

type tokenRecord struct {
	id        string
	userID    string
	expiresAt time.Time
}

// createUser serves POST /users: 201 with data.user and data.token.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ []string) {
	var in struct {
		ExternalMetadata map[string]string `json:"externalMetadata"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if err := smile.ValidateExternalMetadata(in.ExternalMetadata); err != nil {
		invalidParameters(w, "%s", publicMessage(err))
		return
	}
	s.mu.Lock()
	u := &userRecord{
		seq:       s.nextSeq(),
		id:        s.opts.TenantID + "-" + randomHex(16),
		metadata:  maps.Clone(in.ExternalMetadata),
		createdAt: s.now(),
	}
	s.users[u.id] = u
	tok := s.issueToken(u.id)
	view, notify := userView(u), s.userCreated
	s.mu.Unlock()
	writeData(w, http.StatusCreated, map[string]any{"user": view, "token": tok})
	if notify != nil {
		notify(u.id)
	}
}

const userCursorKind = "users"

// listUsers serves GET /users, oldest first, optionally only users created
// from startDate to endDate (YYYY-MM-DD, both days included).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ []string) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	after, ok := decodeCursor(w, r, userCursorKind)
	if !ok {
		return
	}
	from, ok := queryDate(w, r, "startDate")
	if !ok {
		return
	}
	to, ok := queryDate(w, r, "endDate")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]*userRecord, 0, len(s.users))
	for _, u := range s.users {
		day := u.createdAt.Truncate(24 * time.Hour)
		if (from.IsZero() || !day.Before(from)) && (to.IsZero() || !day.After(to)) {
			recs = append(recs, u)
		}
	}
	slices.SortFunc(recs, func(a, b *userRecord) int { return cmp.Compare(a.seq, b.seq) })
	page, next := paginate(recs, func(u *userRecord) uint64 { return u.seq }, after, size, userCursorKind)
	items := make([]smile.User, len(page))
	for i, u := range page {
		items[i] = userView(u)
	}
	writeData(w, http.StatusOK, listData[smile.User]{NextCursor: next, Items: items})
}

// queryDate reads an optional YYYY-MM-DD query parameter as midnight UTC.
func queryDate(w http.ResponseWriter, r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, true
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		invalidParameters(w, "%s must be a date, YYYY-MM-DD", name)
		return time.Time{}, false
	}
	return d, true
}

// createToken serves POST /tokens?userId=: 201 with a new Token.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request, _ []string) {
	userID := r.URL.Query().Get("userId")
	if userID == "" || len(userID) > 200 {
		invalidParameters(w, "userId is required (1 to 200 characters)")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID] == nil {
		if !s.opts.AdoptUnknownUsers || !strings.HasPrefix(userID, s.opts.TenantID+"-") {
			notFound(w, "User")
			return
		}
		s.users[userID] = &userRecord{seq: s.nextSeq(), id: userID, createdAt: s.now()}
	}
	writeData(w, http.StatusCreated, s.issueToken(userID))
}

// getUser serves GET /users/{id}.
func (s *Server) getUser(w http.ResponseWriter, _ *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[segs[1]]
	if u == nil {
		notFound(w, "User")
		return
	}
	writeData(w, http.StatusOK, userView(u))
}

// issueToken creates a Link token and drops expired ones, so a long-running
// sandbox does not accumulate them; s.mu must be held.
func (s *Server) issueToken(userID string) smile.Token {
	now := s.now()
	for access, t := range s.tokens {
		if !now.Before(t.expiresAt) {
			delete(s.tokens, access)
		}
	}
	t := &tokenRecord{id: "tk-" + randomHex(16), userID: userID, expiresAt: now.Add(s.opts.TokenTTL)}
	access := newAccessToken()
	s.tokens[access] = t
	return smile.Token{ID: t.id, AccessToken: access, ExpiresAt: t.expiresAt, Mode: s.opts.Mode}
}

// userView renders a user as Smile does, with the providers of its connected
// accounts; the server's lock must be held.
func userView(u *userRecord) smile.User {
	providers := []string{}
	for _, a := range u.accounts {
		if a.account.ConnectionStatus == smile.ConnectionConnected &&
			!slices.Contains(providers, a.account.ProviderID) {
			providers = append(providers, a.account.ProviderID)
		}
	}
	slices.Sort(providers)
	meta := maps.Clone(u.metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	return smile.User{
		ID:               u.id,
		ExternalMetadata: meta,
		CreatedAt:        u.createdAt,
		Providers:        providers,
		Session:          &smile.UserSession{UserID: u.id, Channel: "Default", Status: "IN_PROGRESS"},
	}
}

// publicMessage strips the Go package prefix from a validation error.
func publicMessage(err error) string {
	msg, _ := strings.CutPrefix(err.Error(), smile.ErrInvalidArgument.Error()+": ")
	return msg
}

// TokenValid reports whether accessToken is a Link token this server issued
// that has not expired by the server's clock, and for which user. It does not
// use the token up.
func (s *Server) TokenValid(accessToken string) (userID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[accessToken]
	if t == nil || !s.now().Before(t.expiresAt) {
		return "", false
	}
	return t.userID, true
}

// ExpireToken makes accessToken expire now, as if its TTL had run out; an
// unknown token is ignored.
func (s *Server) ExpireToken(accessToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[accessToken]; t != nil {
		t.expiresAt = s.now()
	}
}

// Users returns how many users exist.
func (s *Server) Users() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// User returns a user as GET /users/{id} would, and whether it exists.
func (s *Server) User(id string) (smile.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return smile.User{}, false
	}
	return userView(u), true
}
