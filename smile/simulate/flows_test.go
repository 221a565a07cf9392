package simulate

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

const (
	flowUser    = "demotenant-0c7e2a9d4b1f4e6a9c3d5b7e1f2a4c6d"
	flowAccount = "a-7d3e9b1c5a2f4e8d9b0c6a1e3f5d7b9c"
	flowArchive = "archive-2b8f6d4a1c9e4b7d8a3f5c0e6b2d9a14"
)

// TestFlows checks the step-wise builders the sandbox uses: the types they send,
// in order, from the time given, each valid against Smile's spec and carrying the
// ids it was given.
func TestFlows(t *testing.T) {
	// at has a fraction and a zone: flows must still send whole UTC seconds.
	at := time.Date(2026, 3, 2, 12, 18, 3, 500, time.FixedZone("PHT", 8*3600))
	tests := []struct {
		name      string
		build     func(g *Generator) []Event
		wantFirst []smile.EventType
		wantLast  smile.EventType
		// later: the flow's events come a few seconds after `at` (a sync ran at `at`).
		later bool
	}{
		{
			name: "user created",
			build: func(g *Generator) []Event {
				return []Event{g.UserCreated(flowUser, at)}
			},
			wantFirst: []smile.EventType{smile.UserCreated},
			wantLast:  smile.UserCreated,
		},
		{
			name: "account connected",
			build: func(g *Generator) []Event {
				return g.AccountConnectedFlow(flowUser, flowAccount, "sss_ph", "jdelacruz.demo", at)
			},
			wantFirst: []smile.EventType{smile.AccountCreated, smile.AccountConnected, smile.TaskStarted, smile.IdentityAdded},
			wantLast:  smile.TaskFinished,
		},
		{
			name: "account connected, provider not in the catalogue",
			build: func(g *Generator) []Event {
				return g.AccountConnectedFlow(flowUser, flowAccount, "demogig", "", at)
			},
			wantFirst: []smile.EventType{smile.AccountCreated, smile.AccountConnected, smile.TaskStarted,
				smile.IdentityAdded, smile.EmploymentsAdded, smile.IncomesAdded, smile.TaskFinished},
			wantLast: smile.TaskFinished,
		},
		{
			name: "account failed",
			build: func(g *Generator) []Event {
				return g.AccountFailedFlow(flowUser, flowAccount, "pagibig_ph", "jdelacruz.demo", "MFA_TIMEOUT", at)
			},
			wantFirst: []smile.EventType{smile.AccountCreated, smile.AccountFailed},
			wantLast:  smile.AccountFailed,
		},
		{
			name: "account disconnected",
			build: func(g *Generator) []Event {
				return []Event{g.AccountDisconnected(flowUser, flowAccount, "sss_ph", at)}
			},
			wantFirst: []smile.EventType{smile.AccountDisconnected},
			wantLast:  smile.AccountDisconnected,
		},
		{
			name: "account sync",
			build: func(g *Generator) []Event {
				return g.AccountSyncFlow(flowUser, flowAccount, "examplepayroll_ph", at.AddDate(0, -1, 0), at)
			},
			wantLast: smile.AccountSyncTaskFinished,
			later:    true,
		},
		{
			name: "archive analyzed",
			build: func(g *Generator) []Event {
				return g.ArchiveFlow(flowUser, flowArchive, "", at)
			},
			wantFirst: []smile.EventType{smile.ArchiveStarted, smile.ArchiveAnalyzed},
			wantLast:  smile.ArchiveAnalyzed,
		},
		{
			name: "archive failed",
			build: func(g *Generator) []Event {
				return g.ArchiveFlow(flowUser, flowArchive, "INVALID_FIELD_FORMAT", at)
			},
			wantFirst: []smile.EventType{smile.ArchiveStarted, smile.ArchiveFailed},
			wantLast:  smile.ArchiveFailed,
		},
		{
			name: "archive revoked",
			build: func(g *Generator) []Event {
				return []Event{g.ArchiveRevoked(flowUser, flowArchive, at)}
			},
			wantFirst: []smile.EventType{smile.ArchiveRevoked},
			wantLast:  smile.ArchiveRevoked,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := tc.build(NewGenerator(1, "", time.Time{}))
			types := make([]smile.EventType, len(evs))
			for i, ev := range evs {
				types[i] = ev.Type
			}
			if len(types) < len(tc.wantFirst) || !slices.Equal(types[:len(tc.wantFirst)], tc.wantFirst) ||
				types[len(types)-1] != tc.wantLast {
				t.Fatalf("got types %v, want them to start with %v and end with %s", types, tc.wantFirst, tc.wantLast)
			}
			want := at.UTC().Truncate(time.Second)
			if first := evs[0].CreatedAt; tc.later && !first.After(want) || !tc.later && !first.Equal(want) {
				t.Errorf("got first createdAt %v, want %v (later: %v)", first, want, tc.later)
			}
			for i, ev := range evs {
				if err := smiletest.ValidateEvent(ev.Body); err != nil {
					t.Errorf("%s: %v\nbody: %s", ev.Type, err, ev.Body)
				}
				p := parseEvent(t, ev)
				if i > 0 && !ev.CreatedAt.After(evs[i-1].CreatedAt) {
					t.Errorf("%s at %v is not after %s at %v", ev.Type, ev.CreatedAt, evs[i-1].Type, evs[i-1].CreatedAt)
				}
				if d := p.env.Data; d.UserID != flowUser || d.Account() != "" && d.Account() != flowAccount ||
					d.ArchiveID != "" && d.ArchiveID != flowArchive {
					t.Errorf("%s: got user %q account %q archive %q, want the ids given", ev.Type, d.UserID, d.Account(), d.ArchiveID)
				}
			}
		})
	}
}

// TestAccountConnectedFlow_Fields checks the values the sandbox passes arrive as given.
func TestAccountConnectedFlow_Fields(t *testing.T) {
	evs := NewGenerator(3, "", time.Time{}).AccountConnectedFlow(flowUser, flowAccount, "grab_driver_ph", "george@example.com", testStart)
	d := parseEvent(t, evs[1]).env.Data
	if d.LoginName == nil || *d.LoginName != "george@example.com" || d.Provider() != "grab_driver_ph" {
		t.Errorf("got loginName %v provider %q, want george@example.com and grab_driver_ph", d.LoginName, d.Provider())
	}
	checkUser(t, append([]Event{NewGenerator(3, "", time.Time{}).UserCreated(flowUser, testStart)}, evs...))
}

// TestAccountFailedFlow_Codes checks every documented code gets its message, and
// that an empty code is replaced by one of them.
func TestAccountFailedFlow_Codes(t *testing.T) {
	g := NewGenerator(5, "", time.Time{})
	for _, code := range append(AccountErrorCodes(), "ACCOUNT_DISABLED", "UNSUPPORTED_MFA_METHOD", "") {
		evs := g.AccountFailedFlow(flowUser, flowAccount, "sss_ph", "", code, testStart)
		d := parseEvent(t, evs[1]).env.Data
		switch {
		case d.ErrorCode == nil || d.ErrorMsg == nil:
			t.Fatalf("code %q: got no errorCode or errorMessage", code)
		case code == "" && !slices.Contains(AccountErrorCodes(), *d.ErrorCode):
			t.Errorf("empty code: got %q, want one of %v", *d.ErrorCode, AccountErrorCodes())
		case code != "" && *d.ErrorCode != code:
			t.Errorf("got errorCode %q, want %q", *d.ErrorCode, code)
		case strings.HasPrefix(*d.ErrorMsg, "The account could not") && code != "":
			t.Errorf("code %q: got the generic message, want its own", code)
		case d.LoginName == nil || *d.LoginName == "":
			t.Errorf("code %q: got no generated loginName", code)
		}
	}
}

// TestAppendString checks the hand-written JSON string encoder against
// encoding/json on awkward input, since login names come from people.
func TestAppendString(t *testing.T) {
	tests := []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x1f\x7f",
		"ünïcödé ✓ 日本", "bad utf8 \xff\xfe end", "<script>&amp;</script>", "\u2028\u2029",
	}
	for _, in := range tests {
		got := appendString(nil, in)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("appendString(%q) = %s, not valid JSON: %v", in, got, err)
			continue
		}
		want, _ := json.Marshal(in)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendString(%q) decodes to %q, want %q", in, back, wantBack)
		}
	}
}

// TestRedated checks that re-dating an event changes its createdAt, in the
// body too, and nothing else.
func TestRedated(t *testing.T) {
	ev := NewGenerator(1, "", time.Time{}).UserCreated(flowUser, testStart)
	at := time.Date(2026, 12, 2, 7, 1, 2, 900, time.FixedZone("PHT", 8*3600))
	got := ev.Redated(at)
	want := bytes.Replace(ev.Body, []byte(`"createdAt":"2026-03-02T04:15:09Z"`), []byte(`"createdAt":"2026-12-01T23:01:02Z"`), 1)
	if !bytes.Equal(got.Body, want) || !got.CreatedAt.Equal(time.Date(2026, 12, 1, 23, 1, 2, 0, time.UTC)) {
		t.Errorf("got %s at %v, want %s", got.Body, got.CreatedAt, want)
	}
	if got.ID != ev.ID || got.Type != ev.Type || bytes.Equal(ev.Body, got.Body) {
		t.Errorf("the original changed, or the copy lost its id or type")
	}
	if err := smiletest.ValidateEvent(got.Body); err != nil {
		t.Error(err)
	}
}
