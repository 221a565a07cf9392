package smile_test

import (
	"errors"
	"testing"
	"time"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

func TestParseEnvelope_EveryFixture(t *testing.T) {
	for _, typ := range smiletest.EventTypes() {
		env, err := smile.ParseEnvelope(smiletest.Event(typ))
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		if string(env.Type) != typ || !env.Type.Known() || env.Version != 1 || env.CreatedAt.IsZero() {
			t.Errorf("%s: got %+v", typ, env)
		}
	}
}

func TestParseEnvelope_Fields(t *testing.T) {
	env, err := smile.ParseEnvelope(smiletest.Event("ACCOUNT_FAILED"))
	if err != nil {
		t.Fatal(err)
	}
	d := env.Data
	if d.Account() == "" || d.Provider() != "demogig" || d.ErrorCode == nil || *d.ErrorCode != "MFA_TIMEOUT" {
		t.Errorf("got data %+v", d)
	}
	sync, err := smile.ParseEnvelope([]byte(`{"id":"x","type":"ACCOUNT_SYNC_TASK_FINISHED","createdAt":"2026-04-02T04:20:12+08:00",` +
		`"data":{"userId":"u","sourceId":"a-1","sourceType":"ACCOUNT","dataPoints":["INCOMES"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := sync.Data.TaskDatapoints(); len(got) != 1 || got[0] != "INCOMES" {
		t.Errorf("got datapoints %v, want the dataPoints spelling decoded", got)
	}
	if want := time.Date(2026, 4, 1, 20, 20, 12, 0, time.UTC); !sync.CreatedAt.Equal(want) || sync.CreatedAt.Location() != time.UTC {
		t.Errorf("got createdAt %v, want %v in UTC", sync.CreatedAt, want)
	}
	if sync.Data.Account() != "a-1" {
		t.Errorf("got account %q, want the task's source account", sync.Data.Account())
	}
}

func TestParseEnvelope_Rejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `hello`,
		"array":           `[1,2]`,
		"no id":           `{"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
		"blank id":        `{"id":"  ","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
		"no type":         `{"id":"et-1","createdAt":"2026-01-01T00:00:00Z"}`,
		"no createdAt":    `{"id":"et-1","type":"USER_CREATED"}`,
		"bad createdAt":   `{"id":"et-1","type":"USER_CREATED","createdAt":"02/03/2026"}`,
		"id is a number":  `{"id":7,"type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
		"version is text": `{"id":"et-1","version":"one","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
	} {
		if _, err := smile.ParseEnvelope([]byte(body)); !errors.Is(err, smile.ErrBadEnvelope) {
			t.Errorf("%s: got %v, want ErrBadEnvelope", name, err)
		}
	}
}

func TestParseEnvelope_LiberalInWhatItAccepts(t *testing.T) {
	for name, body := range map[string]string{
		"unknown type":   `{"id":"et-1","type":"SOMETHING_NEW","createdAt":"2026-01-01T00:00:00Z","data":{"x":1}}`,
		"no data":        `{"id":"et-1","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
		"null data":      `{"id":"et-1","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":null}`,
		"fractional":     `{"id":"et-1","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00.123Z"}`,
		"extra fields":   `{"id":"et-1","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","extra":[1]}`,
		"no version":     `{"id":"1f2e3d","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z"}`,
		"null payload":   `{"id":"et-1","type":"TASK_FINISHED","createdAt":"2026-01-01T00:00:00Z","data":{"payload":null}}`,
		"empty payload":  `{"id":"et-1","type":"TASK_FINISHED","createdAt":"2026-01-01T00:00:00Z","data":{"payload":{}}}`,
		"float count":    `{"id":"et-1","type":"INCOMES_ADDED","createdAt":"2026-01-01T00:00:00Z","data":{"count":3.0}}`,
		"null providers": `{"id":"et-1","type":"ACCOUNT_CREATED","createdAt":"2026-01-01T00:00:00Z","data":{"providers":null}}`,
		"data is text":   `{"id":"et-1","type":"USER_CREATED","createdAt":"2026-01-01T00:00:00Z","data":"x"}`,
	} {
		if _, err := smile.ParseEnvelope([]byte(body)); err != nil {
			t.Errorf("%s: got %v, want accepted", name, err)
		}
	}
}

func TestParseEnvelope_OddFieldTypesDoNotLoseTheEvent(t *testing.T) {
	env, err := smile.ParseEnvelope([]byte(`{"id":"et-1","type":"INCOMES_ADDED","createdAt":"2026-01-01T00:00:00Z",` +
		`"data":{"userId":"u-1","accountId":"a-1","count":"three","providers":"sss_ph"}}`))
	if err != nil {
		t.Fatalf("got %v, want the event accepted", err)
	}
	d := env.Data
	if d.UserID != "u-1" || d.AccountID != "a-1" || d.Count != nil || d.Providers != nil {
		t.Errorf("got %+v, want the readable fields kept and the odd ones empty", d)
	}
}

func TestParseEnvelope_CountSentAsString(t *testing.T) {
	for name, tc := range map[string]struct {
		count string
		want  float64
	}{
		"number":          {`3`, 3},
		"string":          {`"3"`, 3},
		"string, spaces":  {`" 12 "`, 12},
		"string fraction": {`"2.0"`, 2},
	} {
		env, err := smile.ParseEnvelope([]byte(`{"id":"et-1","type":"INCOMES_ADDED","createdAt":"2026-01-01T00:00:00Z",` +
			`"data":{"userId":"u","accountId":"a-1","count":` + tc.count + `}}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if env.Data.Count == nil || float64(*env.Data.Count) != tc.want {
			t.Errorf("%s: got count %v, want %v", name, env.Data.Count, tc.want)
		}
		if env.Data.AccountID != "a-1" {
			t.Errorf("%s: got account %q, want the other fields read too", name, env.Data.AccountID)
		}
	}
	for _, bad := range []string{`"three"`, `"NaN"`, `"Inf"`, `true`} {
		env, err := smile.ParseEnvelope([]byte(`{"id":"et-1","type":"INCOMES_ADDED","createdAt":"2026-01-01T00:00:00Z",` +
			`"data":{"userId":"u","count":` + bad + `}}`))
		if err != nil {
			t.Fatalf("%s: %v, want the event read without its count", bad, err)
		}
		if env.Data.Count != nil || env.Data.UserID != "u" {
			t.Errorf("%s: got count %v user %q, want no count and the user read", bad, env.Data.Count, env.Data.UserID)
		}
	}
}

func TestParseEnvelope_CreatedAtWithoutZoneIsUTCAndFlagged(t *testing.T) {
	for _, at := range []string{"2026-03-02T04:15:09", "2026-03-02T04:15:09.000", "2026-03-02 04:15:09"} {
		env, err := smile.ParseEnvelope([]byte(`{"id":"et-1","type":"USER_CREATED","createdAt":"` + at + `","data":{"userId":"u"}}`))
		if err != nil {
			t.Fatalf("%s: got %v, want it read as UTC", at, err)
		}
		if want := time.Date(2026, 3, 2, 4, 15, 9, 0, time.UTC); !env.CreatedAt.Equal(want) {
			t.Errorf("%s: got %v, want %v", at, env.CreatedAt, want)
		}
		if len(env.Flags) != 1 || env.Flags[0] != smile.FlagCreatedAtNoZone {
			t.Errorf("%s: got flags %v, want [%s]", at, env.Flags, smile.FlagCreatedAtNoZone)
		}
	}
	env, err := smile.ParseEnvelope([]byte(`{"id":"et-1","type":"USER_CREATED","createdAt":"2026-03-02T04:15:09Z"}`))
	if err != nil || len(env.Flags) != 0 {
		t.Errorf("got flags %v (%v), want none for a zoned createdAt", env.Flags, err)
	}
}

func TestFutureDated(t *testing.T) {
	received := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ahead time.Duration
		want  bool
	}{{-time.Hour, false}, {time.Minute, false}, {smile.MaxCreatedAtAhead, false}, {smile.MaxCreatedAtAhead + time.Second, true}} {
		if got := smile.FutureDated(received.Add(tc.ahead), received); got != tc.want {
			t.Errorf("%v ahead: got %v, want %v", tc.ahead, got, tc.want)
		}
	}
}
