package simulate

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// testStart is the fixed clock of the generator tests.
var testStart = time.Date(2026, 3, 2, 4, 15, 9, 0, time.UTC)

// testUsers generates n users from one seeded generator.
func testUsers(t *testing.T, seed uint64, n int) [][]Event {
	t.Helper()
	g := NewGenerator(seed, "demotenant", testStart)
	users := make([][]Event, n)
	for i := range users {
		users[i] = g.User()
	}
	return users
}

// TestUser_MatchesOpenAPI proves the simulator cannot drift from the real sender:
// every body it produces matches the *Event schema of Smile's OpenAPI spec.
func TestUser_MatchesOpenAPI(t *testing.T) {
	for _, user := range testUsers(t, 1, 200) {
		for _, ev := range user {
			if err := smiletest.ValidateEvent(ev.Body); err != nil {
				t.Fatalf("event %s: %v\nbody: %s", ev.Type, err, ev.Body)
			}
		}
	}
}

// TestUser_CoversTypes checks that 200 users exercise every branch of the
// generator, so the schema test above sees every type it can emit.
func TestUser_CoversTypes(t *testing.T) {
	seen := map[smile.EventType]int{}
	for _, user := range testUsers(t, 1, 200) {
		for _, ev := range user {
			seen[ev.Type]++
		}
	}
	want := []smile.EventType{
		smile.UserCreated, smile.AccountCreated, smile.AccountConnected, smile.AccountFailed,
		smile.AccountDisconnected, smile.TaskStarted, smile.TaskFinished, smile.AccountSyncTaskFinished,
		smile.IdentityAdded, smile.RatingAdded, smile.TransactionsAdded, smile.DocumentsAdded,
		smile.EmploymentsAdded, smile.IncomesAdded, smile.EincomesAdded, smile.ContributionsAdded,
		smile.LiabilitiesAdded, smile.InsightAdded, smile.LinkAdded,
		smile.DocumentsUpdated, smile.EmploymentsUpdated, smile.LiabilitiesUpdated,
		smile.IncomesUpdated, smile.ContributionsUpdated, smile.EincomesUpdated,
		smile.ArchiveStarted, smile.ArchiveAnalyzed, smile.ArchiveFailed, smile.ArchiveRevoked,
		smile.InviteInvited, smile.InviteLinked,
	}
	for _, typ := range want {
		if seen[typ] == 0 {
			t.Errorf("got no %s in 200 users, want at least one", typ)
		}
	}
	for typ := range seen {
		if !typ.Known() {
			t.Errorf("got unknown type %q", typ)
		}
	}
}

// TestUser_WellFormed checks each user's sequence the way a receiver relies on it.
func TestUser_WellFormed(t *testing.T) {
	ids := map[string]bool{}
	for n, user := range testUsers(t, 2, 200) {
		for _, ev := range user {
			if ids[ev.ID] {
				t.Fatalf("user %d: event id %s repeats", n, ev.ID)
			}
			ids[ev.ID] = true
		}
		checkUser(t, user)
	}
}

// TestUser_Deterministic checks that a seed fixes every byte, and that seeds differ.
func TestUser_Deterministic(t *testing.T) {
	a, b := testUsers(t, 42, 20), testUsers(t, 42, 20)
	for i := range a {
		if !equalEvents(a[i], b[i]) {
			t.Fatalf("user %d differs between two generators with seed 42", i)
		}
	}
	c := testUsers(t, 43, 1)
	if equalEvents(a[0], c[0]) {
		t.Error("got the same first user for seeds 42 and 43, want different")
	}
}

// TestAppendUser_ReusedBuffers checks that the load generator's buffer reuse gives
// the same bytes as User, whatever the previous user left in the buffers.
func TestAppendUser_ReusedBuffers(t *testing.T) {
	want := testUsers(t, 9, 30)
	g := NewGenerator(9, "demotenant", testStart)
	var evs []Event
	var buf []byte
	for _, i := range []int{5, 0, 29, 5, 17} {
		evs, buf = g.appendUser(uint64(i), evs[:0], buf[:0])
		if !equalEvents(evs, want[i]) {
			t.Errorf("user %d built into reused buffers differs from User()", i)
		}
	}
}

func equalEvents(a, b []Event) bool {
	return slices.EqualFunc(a, b, func(x, y Event) bool {
		return x.ID == y.ID && x.Type == y.Type && x.CreatedAt.Equal(y.CreatedAt) && bytes.Equal(x.Body, y.Body)
	})
}

var (
	reEventID   = regexp.MustCompile(`^et-[0-9a-f]{32}$`)
	reUserID    = regexp.MustCompile(`^demotenant-[0-9a-f]{32}$`)
	reAccountID = regexp.MustCompile(`^a-[0-9a-f]{32}$`)
	reArchiveID = regexp.MustCompile(`^archive-[0-9a-f]{32}$`)
	reIdentity  = regexp.MustCompile(`^i-[0-9a-f]{32}$`)
	reCreatedAt = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// parsed is an event with its envelope decoded.
type parsed struct {
	Event
	env smile.Envelope
}

// parseEvent decodes a body with the project's own parser and checks the envelope.
func parseEvent(t *testing.T, ev Event) parsed {
	t.Helper()
	env, err := smile.ParseEnvelope(ev.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", ev.Body, err)
	}
	var raw struct {
		CreatedAt string `json:"createdAt"`
	}
	if err := json.Unmarshal(ev.Body, &raw); err != nil {
		t.Fatalf("decode %s: %v", ev.Body, err)
	}
	switch {
	case !json.Valid(ev.Body) || bytes.ContainsAny(ev.Body, "\n\t"):
		t.Errorf("body is not compact JSON: %s", ev.Body)
	case env.ID != ev.ID || !reEventID.MatchString(env.ID):
		t.Errorf("got envelope id %q for event id %q, want et- and 32 hex digits for both", env.ID, ev.ID)
	case env.Type != ev.Type || env.Version != 1:
		t.Errorf("got type %s version %d, want %s version 1", env.Type, env.Version, ev.Type)
	case !reCreatedAt.MatchString(raw.CreatedAt) || !env.CreatedAt.Equal(ev.CreatedAt):
		t.Errorf("got createdAt %q for %v, want yyyy-MM-ddTHH:mm:ssZ equal to it", raw.CreatedAt, ev.CreatedAt)
	}
	return parsed{Event: ev, env: env}
}

// accountState follows one account through a user's sequence.
type accountState struct {
	created, outcome, started time.Time // zero until seen
	finished, disconnected    bool
	added                     []smile.Datapoint // data events of the link task
	delivered                 []string          // TASK_FINISHED datapoints
}

// checkUser checks one user's sequence: order, ids, the account life cycle and
// that TASK_FINISHED lists exactly the data events sent before it.
func checkUser(t *testing.T, user []Event) {
	t.Helper()
	if len(user) == 0 || user[0].Type != smile.UserCreated {
		t.Fatalf("user does not start with USER_CREATED")
	}
	userID := parseEvent(t, user[0]).env.Data.UserID
	if !reUserID.MatchString(userID) {
		t.Errorf("got user id %q, want demotenant- and 32 hex digits", userID)
	}
	accounts := map[string]*accountState{}
	archives := map[string]smile.EventType{}
	invites := map[string]bool{}
	connected := false
	var prev time.Time
	for _, ev := range user {
		p := parseEvent(t, ev)
		d := p.env.Data
		if ev.CreatedAt.Before(prev) {
			t.Errorf("%s at %v comes after an event at %v", ev.Type, ev.CreatedAt, prev)
		}
		prev = ev.CreatedAt
		if d.Subject() != userID {
			t.Errorf("%s: got userId %q, want %q", ev.Type, d.Subject(), userID)
		}
		switch ev.Type {
		case smile.ArchiveStarted, smile.ArchiveAnalyzed, smile.ArchiveFailed, smile.ArchiveRevoked:
			checkArchive(t, p, archives)
		case smile.InviteInvited:
			invites[d.InviteID] = true
		case smile.InviteLinked:
			if !invites[d.InviteID] || !connected {
				t.Errorf("INVITE_LINKED %s before its INVITE_INVITED or any ACCOUNT_CONNECTED", d.InviteID)
			}
		case smile.AccountConnected:
			connected = true
		}
		if id := d.Account(); id != "" {
			if !reAccountID.MatchString(id) {
				t.Errorf("%s: got account id %q, want a- and 32 hex digits", ev.Type, id)
			}
			if len(d.Providers) != 1 {
				t.Errorf("%s: got providers %v, want one", ev.Type, d.Providers)
			}
			if accounts[id] == nil {
				accounts[id] = &accountState{}
			}
			checkAccountEvent(t, p, accounts[id])
		}
	}
	for id, a := range accounts {
		if !a.started.IsZero() && !a.finished {
			t.Errorf("account %s: TASK_STARTED without TASK_FINISHED", id)
		}
	}
}

// checkAccountEvent advances an account's state, failing on events out of order.
func checkAccountEvent(t *testing.T, p parsed, a *accountState) {
	t.Helper()
	d, at := p.env.Data, p.CreatedAt
	if a.disconnected {
		t.Errorf("%s after ACCOUNT_DISCONNECTED", p.Type)
	}
	point, change := p.Type.DataEvent()
	switch {
	case p.Type == smile.AccountCreated:
		if !a.created.IsZero() {
			t.Errorf("second ACCOUNT_CREATED for %s", d.AccountID)
		}
		a.created = at
	case p.Type == smile.AccountConnected || p.Type == smile.AccountFailed:
		if a.created.IsZero() || !at.After(a.created) || !a.outcome.IsZero() {
			t.Errorf("%s at %v not strictly after a single ACCOUNT_CREATED at %v", p.Type, at, a.created)
		}
		if p.Type == smile.AccountFailed && (d.ErrorCode == nil || AccountErrorMessage(*d.ErrorCode) != *d.ErrorMsg) {
			t.Errorf("ACCOUNT_FAILED: got errorCode %v message %v, want a known code and its message", d.ErrorCode, d.ErrorMsg)
		}
		a.outcome = at
	case p.Type == smile.TaskStarted:
		if a.outcome.IsZero() || !at.After(a.outcome) || d.TaskType != "LINK_ACCOUNT" || d.SourceType != "ACCOUNT" {
			t.Errorf("TASK_STARTED %+v at %v, want a LINK_ACCOUNT task after ACCOUNT_CONNECTED at %v", d, at, a.outcome)
		}
		a.started = at
	case change == smile.DataAdded:
		if a.started.IsZero() || a.finished {
			t.Errorf("%s outside the link task", p.Type)
		}
		if d.IdentityID != "" && !reIdentity.MatchString(d.IdentityID) {
			t.Errorf("got identityId %q, want i- and 32 hex digits", d.IdentityID)
		}
		a.added = append(a.added, point)
	case p.Type == smile.TaskFinished:
		checkTaskFinished(t, p, a)
	case change == smile.DataUpdated:
		if !a.finished || !slices.Contains(taskPoints(a.delivered), point) {
			t.Errorf("%s for a datapoint the link task did not deliver (%v)", p.Type, a.delivered)
		}
	case p.Type == smile.AccountSyncTaskFinished:
		if !a.finished || d.Status == "SUCCEEDED" && !slices.Equal(d.TaskDatapoints(), a.delivered) {
			t.Errorf("sync %v after link delivering %v", d.TaskDatapoints(), a.delivered)
		}
	case p.Type == smile.AccountDisconnected:
		if !a.finished {
			t.Error("ACCOUNT_DISCONNECTED before the account's link task finished")
		}
		a.disconnected = true
	}
}

func checkTaskFinished(t *testing.T, p parsed, a *accountState) {
	t.Helper()
	d := p.env.Data
	if a.started.IsZero() || !p.CreatedAt.After(a.started) || a.finished {
		t.Errorf("TASK_FINISHED at %v, want one, after TASK_STARTED at %v", p.CreatedAt, a.started)
	}
	if d.Status != "SUCCEEDED" || d.ErrorCode != nil || !bytes.Contains(p.Body, []byte(`"errorCode":null`)) {
		t.Errorf("TASK_FINISHED: got status %q errorCode %v, want SUCCEEDED and null", d.Status, d.ErrorCode)
	}
	if got := taskPoints(d.Datapoints); !slices.Equal(got, a.added) {
		t.Errorf("TASK_FINISHED datapoints %v, want those of the data events sent: %v", got, a.added)
	}
	a.finished, a.delivered = true, d.Datapoints
}

func taskPoints(names []string) []smile.Datapoint {
	out := make([]smile.Datapoint, len(names))
	for i, n := range names {
		out[i] = smile.TaskDatapoint(n)
	}
	return out
}

// checkArchive checks an archive goes STARTED, then ANALYZED or FAILED, and is
// revoked only once analysed.
func checkArchive(t *testing.T, p parsed, archives map[string]smile.EventType) {
	t.Helper()
	id := p.env.Data.ArchiveID
	if !reArchiveID.MatchString(id) {
		t.Errorf("got archive id %q, want archive- and 32 hex digits", id)
	}
	prev := archives[id]
	ok := map[smile.EventType]smile.EventType{
		smile.ArchiveStarted:  "",
		smile.ArchiveAnalyzed: smile.ArchiveStarted,
		smile.ArchiveFailed:   smile.ArchiveStarted,
		smile.ArchiveRevoked:  smile.ArchiveAnalyzed,
	}[p.Type]
	if prev != ok {
		t.Errorf("archive %s: got %s after %q, want it after %q", id, p.Type, prev, ok)
	}
	archives[id] = p.Type
}
