package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// Helpers for tests that ingest webhooks and read what they became.

// Writer starts an event log writer on s, closed when the test ends.
func Writer(t *testing.T, s *models.Store) *ingest.Writer {
	t.Helper()
	in, err := ingest.New(s).NewWriter(ingest.WriterOptions{})
	if err != nil {
		t.Fatalf("new ingester: %v", err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

// Incoming is body as the webhook handler hands it to the writer.
func Incoming(t testing.TB, body []byte) *ingest.Incoming {
	t.Helper()
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &ingest.Incoming{Envelope: env, Body: body, SourceIP: "18.142.61.230", ReceivedAt: time.Now()}
}

// Submit stores body through in and waits for its projections.
func Submit(t testing.TB, in *ingest.Writer, body []byte) ingest.Result {
	t.Helper()
	res, err := in.Submit(context.Background(), Incoming(t, body))
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	// The projections follow the acknowledgement; these tests read them next.
	if err := in.SyncProjections(context.Background()); err != nil {
		t.Fatalf("sync projections: %v", err)
	}
	return res
}

// FixtureBodies is one example webhook of every type (../shared/smile-fixtures).
func FixtureBodies() [][]byte {
	var out [][]byte
	for _, typ := range smiletest.EventTypes() {
		out = append(out, smiletest.Event(typ))
	}
	return out
}

// SyntheticHistory makes users' worth of account histories with some
// deliberately tied timestamps, so ordering by id is exercised.
func SyntheticHistory(users int) [][]byte {
	var out [][]byte
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	seq := 0
	add := func(typ string, at time.Time, data string) {
		seq++
		out = append(out, fmt.Appendf(nil, `{"id":"et-syn-%06d","version":1,"type":%q,"createdAt":%q,"data":%s}`,
			seq, typ, at.Format(time.RFC3339), data))
	}
	for u := range users {
		user := fmt.Sprintf("synth-%032d", u)
		acc := fmt.Sprintf("a-%032d", u)
		at := base.Add(time.Duration(u) * time.Minute)
		ids := fmt.Sprintf(`"userId":%q,"accountId":%q,"providers":["prov%d"]`, user, acc, u%3)
		add("USER_CREATED", at, fmt.Sprintf(`{"userId":%q}`, user))
		add("ACCOUNT_CREATED", at.Add(time.Second), "{"+ids+"}")
		if u%4 == 0 {
			add("ACCOUNT_FAILED", at.Add(2*time.Second), "{"+ids+`,"loginName":"l`+fmt.Sprint(u)+`","errorCode":"INVALID_CREDENTIALS","errorMessage":"wrong"}`)
		}
		add("ACCOUNT_CONNECTED", at.Add(2*time.Second), "{"+ids+`,"loginName":"login`+fmt.Sprint(u)+`"}`)
		add("TASK_STARTED", at.Add(3*time.Second), fmt.Sprintf(`{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"LINK_ACCOUNT","providers":["p"]}`, user, acc))
		add("INCOMES_ADDED", at.Add(4*time.Second), "{"+ids+`,"count":3}`)
		add("EMPLOYMENTS_ADDED", at.Add(4*time.Second), "{"+ids+`,"count":1}`)
		add("TASK_FINISHED", at.Add(5*time.Second), fmt.Sprintf(`{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"LINK_ACCOUNT","status":"SUCCEEDED","errorCode":null,"providers":["p"],"datapoints":["INCOMES","EMPLOYMENTS"]}`, user, acc))
		if u%3 == 0 {
			add("ACCOUNT_DISCONNECTED", at.Add(time.Hour), "{"+ids+"}")
		}
	}
	return out
}

// RawEvent is a webhook body of type typ stamped at, with data as its JSON data.
func RawEvent(id, typ string, at time.Time, data string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"version":1,"type":%q,"createdAt":%q,"data":%s}`, id, typ, at.UTC().Format(time.RFC3339), data)
}

// DumpProjections renders every projection, the overview's counters too, once
// the projector has caught up.
func DumpProjections(t testing.TB, s *models.Store) string {
	t.Helper()
	Sync(t, s)
	// The overview's counters are projections too; a rebuild must give them back.
	return Dump(t, s, append(ProjectionQueries(),
		"SELECT * FROM event_hourly ORDER BY hour, type, provider_id, error_code",
		"SELECT * FROM event_daily ORDER BY day, type, provider_id, error_code")...)
}

// EventBody is a webhook body of type typ stamped at, with data as its data.
func EventBody(id, typ string, at time.Time, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "version": 1, "type": typ, "createdAt": at.Format(time.RFC3339), "data": data})
	return b
}
