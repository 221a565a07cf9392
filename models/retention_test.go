package models_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// looseBodies are bodies whose compact form is easiest to get wrong: no zone,
// a string count, data null or not an object, empty strings that differ from
// absent ones, a string version, unknown fields.
func looseBodies() [][]byte {
	return [][]byte{
		[]byte(`{"id":"et-l1","version":1,"type":"INCOMES_ADDED","createdAt":"2026-05-01T08:00:00",` +
			`"data":{"userId":"u-loose","accountId":"a-loose","providers":["p"],"count":"3","extra":{"big":"` + strings.Repeat("x", 500) + `"}}}`),
		[]byte(`{"id":"et-l2","type":"USER_CREATED","createdAt":"2026-05-01T08:00:00.123+07:00","data":null}`),
		[]byte(`{"id":"et-l3","version":"2","type":"ACCOUNT_FAILED","createdAt":"2026-05-01T08:00:01Z",` +
			`"data":{"userId":"u-loose","accountId":"a-loose","loginName":"","errorCode":null,"errorMessage":"","datapoints":[]}}`),
		[]byte(`{"id":"et-l4","version":1,"type":"SOMETHING_NEW","createdAt":"2026-05-01T08:00:02Z","data":[1,2]}`),
		[]byte(`{"id":"et-l5","version":1,"type":"USER_SESSION_COMPLETED","createdAt":"2026-05-01T08:00:03Z",` +
			`"data":{"session":{"userId":"u-loose","channel":"LINK","channelId":null,"status":"COMPLETED"},"count":"x"}}`),
	}
}

// TestCompactBody_ParsesAsTheOriginal proves the compact body is read exactly
// as the original by smile.ParseEnvelope, which is all projections read.
func TestCompactBody_ParsesAsTheOriginal(t *testing.T) {
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, body := range append(append(storetest.FixtureBodies(), looseBodies()...), storetest.SyntheticHistory(4)...) {
		want, err := smile.ParseEnvelope(body)
		if err != nil {
			t.Fatal(err)
		}
		compact, err := models.CompactBody(body, at)
		if err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		got, err := smile.ParseEnvelope(compact)
		if err != nil {
			t.Fatalf("%s: compact body does not parse: %v\n%s", want.ID, err, compact)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: compact body parses to\n%+v\nwant\n%+v\n(compact %s)", want.ID, got, want, compact)
		}
		r, ok := models.RetainedOf(compact)
		if !ok || !r.At.Equal(at) || r.OriginalBytes != len(body) {
			t.Errorf("%s: RetainedOf = %+v, %v; want at %v, %d bytes", want.ID, r, ok, at, len(body))
		}
		if _, ok := models.RetainedOf(body); ok {
			t.Errorf("%s: the original reads as retained", want.ID)
		}
		again, err := models.CompactBody(compact, at.Add(time.Hour))
		if err != nil || string(again) != string(compact) {
			t.Errorf("%s: compacting twice changed the body", want.ID)
		}
	}
}

// TestRetention_KeepsProjectionsAndTimeline compacts old bodies and prunes old
// delivery records, then checks young data is untouched, every compacted body
// parses as before, and a rebuild from the log gives identical projections.
func TestRetention_KeepsProjectionsAndTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		in := storetest.Writer(t, s)
		bodies := append(append(storetest.FixtureBodies(), looseBodies()...), storetest.SyntheticHistory(12)...)
		oldCount := len(bodies) * 2 / 3
		originals := map[string][]byte{}
		for i, body := range bodies {
			inc := storetest.Incoming(t, body)
			inc.ReceivedAt = now.Add(-24 * time.Hour)
			if i < oldCount {
				inc.ReceivedAt = now.Add(-100 * 24 * time.Hour)
			}
			if res, err := in.Submit(ctx, inc); err != nil || res != ingest.Stored {
				t.Fatalf("submit: %v %v", res, err)
			}
			originals[inc.Envelope.ID] = body
		}
		for _, d := range []models.Delivery{
			{ReceivedAt: now.Add(-40 * 24 * time.Hour), SourceIP: "192.0.2.1", Outcome: models.OutcomeRejected, Reason: models.ReasonSignatureMismatch, Status: 401, Excerpt: "old"},
			{ReceivedAt: now.Add(-40 * 24 * time.Hour), SourceIP: "192.0.2.1", Outcome: models.OutcomeDuplicate, Reason: models.ReasonDuplicate, Status: 200},
			{ReceivedAt: now.Add(-time.Hour), SourceIP: "192.0.2.2", Outcome: models.OutcomeRejected, Reason: models.ReasonSignatureMismatch, Status: 401, Excerpt: "young"},
		} {
			if err := s.DB().Create(&d).Error; err != nil {
				t.Fatal(err)
			}
		}
		before := storetest.DumpProjections(t, s)

		policy := models.RetentionPolicy{Bodies: 90 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour, Batch: 7, Now: func() time.Time { return now }}
		r, err := s.RunRetention(ctx, policy)
		if err != nil {
			t.Fatal(err)
		}
		if r.BodiesCompacted != oldCount || r.DeliveriesDeleted != 2 {
			t.Errorf("got %+v, want %d bodies compacted and 2 deliveries deleted", r, oldCount)
		}
		var events []models.Event
		if err := s.DB().Order("seq").Find(&events).Error; err != nil {
			t.Fatal(err)
		}
		for i, ev := range events {
			retained, ok := models.RetainedOf(ev.Body)
			if ok != (i < oldCount) {
				t.Errorf("event %s (received %v): retained %v, want %v", ev.EventID, ev.ReceivedAt, ok, i < oldCount)
			}
			if ok && !retained.At.Equal(now) {
				t.Errorf("event %s: retained at %v, want %v", ev.EventID, retained.At, now)
			}
			if !ok && string(ev.Body) != string(originals[ev.EventID]) {
				t.Errorf("young event %s: body changed", ev.EventID)
			}
			got, err := smile.ParseEnvelope(ev.Body)
			want, _ := smile.ParseEnvelope(originals[ev.EventID])
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("event %s: body now parses to %+v (%v), want %+v", ev.EventID, got, err, want)
			}
		}
		var left []models.Delivery
		if err := s.DB().Find(&left).Error; err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].Excerpt != "young" {
			t.Errorf("deliveries left: %+v, want only the young one", left)
		}

		if _, err := ingest.New(s).Reproject(ctx); err != nil {
			t.Fatal(err)
		}
		if after := storetest.DumpProjections(t, s); after != before {
			t.Errorf("projections rebuilt after retention differ:\n--- before\n%s\n--- after\n%s", before, after)
		}
		if r, err := s.RunRetention(ctx, policy); err != nil || r != (models.RetentionResult{}) {
			t.Errorf("second run: got %+v, %v; want nothing left to do", r, err)
		}
	})
}

// TestRetention_ZeroKeepsForever checks a zero policy touches nothing and
// StartRetention then starts no job.
func TestRetention_ZeroKeepsForever(t *testing.T) {
	s := storetest.SQLite(t)
	in := storetest.Writer(t, s)
	inc := storetest.Incoming(t, storetest.FixtureBodies()[0])
	inc.ReceivedAt = time.Now().Add(-10 * 365 * 24 * time.Hour)
	if _, err := in.Submit(context.Background(), inc); err != nil {
		t.Fatal(err)
	}
	r, err := s.RunRetention(context.Background(), models.RetentionPolicy{})
	if err != nil || r != (models.RetentionResult{}) {
		t.Fatalf("got %+v, %v; want nothing done", r, err)
	}
	s.StartRetention(models.RetentionPolicy{})() // returns a no-op stop at once
}
