package ingest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
	"smiledash/smile"
)

// TestProjection_SmileVocabulary checks every account and task event type
// sets Smile's own words: connection statuses, and Smile's TaskType values.
func TestProjection_SmileVocabulary(t *testing.T) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	accounts := map[string]string{
		"ACCOUNT_CREATED": models.AccountPending, "ACCOUNT_CONNECTED": models.AccountConnected,
		"ACCOUNT_FAILED": models.AccountError, "ACCOUNT_DISCONNECTED": models.AccountDisconnected,
	}
	type task struct{ typ, taskType, status, wantType, wantStatus string }
	var tasks []task
	for _, tt := range []string{"LINK_ACCOUNT", "ANALYZE_ARCHIVE", "CLASSIFY_ARCHIVE", "UPDATE_ACCOUNT"} {
		tasks = append(tasks, task{"TASK_STARTED", tt, "", tt, "STARTED"}, task{"TASK_FINISHED", tt, "FAILED", tt, "FAILED"})
	}
	tasks = append(tasks, task{"ACCOUNT_SYNC_TASK_FINISHED", "", "SUCCEEDED", models.TaskTypeUpdateAccount, "SUCCEEDED"})
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		for typ := range accounts {
			storetest.Submit(t, in, storetest.RawEvent("et-voc-"+typ, typ, at, fmt.Sprintf(`{"userId":"u-voc","accountId":"a-%s","providers":["p"]}`, typ)))
		}
		for i, tk := range tasks {
			storetest.Submit(t, in, storetest.RawEvent(fmt.Sprintf("et-voc-task-%d", i), tk.typ, at, fmt.Sprintf(
				`{"userId":"u-voc","sourceId":"src-%d","sourceType":"ACCOUNT","taskType":%q,"status":%q}`, i, tk.taskType, tk.status)))
		}
		for typ, want := range accounts {
			var acc models.Account
			if err := s.DB().Where("id = ?", "a-"+typ).Take(&acc).Error; err != nil {
				t.Fatal(err)
			}
			if acc.Status != want {
				t.Errorf("%s: got status %s, want %s", typ, acc.Status, want)
			}
		}
		for i, tk := range tasks {
			var got models.Task
			if err := s.DB().Where("source_id = ?", fmt.Sprintf("src-%d", i)).Take(&got).Error; err != nil {
				t.Fatalf("%s %s: %v", tk.typ, tk.taskType, err)
			}
			if got.TaskType != tk.wantType || got.Status != tk.wantStatus {
				t.Errorf("%s %s: got task %s %s, want %s %s", tk.typ, tk.taskType, got.TaskType, got.Status, tk.wantType, tk.wantStatus)
			}
		}
	})
}

// TestProjection_FutureDatedEventDrivesNoState sends an ACCOUNT_DISCONNECTED
// dated three days after its receipt between two real events: it is stored,
// counted and flagged, but the account follows the real events, also after a
// rebuild.
func TestProjection_FutureDatedEventDrivesNoState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		now := time.Now().UTC()
		data := `{"userId":"u-fut","accountId":"a-fut","providers":["p"]}`
		storetest.Submit(t, in, storetest.RawEvent("et-fut-1", "ACCOUNT_CONNECTED", now.Add(-time.Hour), data))
		storetest.Submit(t, in, storetest.RawEvent("et-fut-2", "ACCOUNT_DISCONNECTED", now.Add(72*time.Hour), data))
		storetest.Submit(t, in, storetest.RawEvent("et-fut-3", "ACCOUNT_FAILED", now.Add(-time.Minute), data))
		check := func(stage string) {
			var acc models.Account
			if err := s.DB().Where("id = ?", "a-fut").Take(&acc).Error; err != nil {
				t.Fatal(err)
			}
			if acc.Status != models.AccountError || acc.LastSeenAt.After(now) {
				t.Errorf("%s: got status %s last seen %v, want ERROR and no future activity", stage, acc.Status, acc.LastSeenAt)
			}
			var n int64
			if err := s.DB().Raw("SELECT stored FROM event_counts WHERE type = 'ACCOUNT_DISCONNECTED'").Scan(&n).Error; err != nil || n != 1 {
				t.Errorf("%s: got %d ACCOUNT_DISCONNECTED counted (%v), want 1", stage, n, err)
			}
		}
		check("incremental")
		d, err := s.EventByEventID(context.Background(), "et-fut-2")
		if err != nil {
			t.Fatal(err)
		}
		if d.Flags != smile.FlagCreatedAtFuture {
			t.Errorf("got flags %q, want %q", d.Flags, smile.FlagCreatedAtFuture)
		}
		if ok, err := s.EventByEventID(context.Background(), "et-fut-1"); err != nil || ok.Flags != "" {
			t.Errorf("got flags %q (%v) on a normal event, want none", ok.Flags, err)
		}
		if _, err := ingest.New(s).Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		check("rebuilt")
	})
}

// TestIngest_LooseFieldsReadAndFlagged stores an event whose createdAt has no
// zone and whose count is a string: the time is read as UTC and flagged, the
// count is projected as its number.
func TestIngest_LooseFieldsReadAndFlagged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		body := []byte(`{"id":"et-loose","version":1,"type":"INCOMES_ADDED","createdAt":"2026-05-01T08:00:00",` +
			`"data":{"userId":"u-loose","accountId":"a-loose","providers":["p"],"count":"3"}}`)
		storetest.Submit(t, in, body)
		d, err := s.EventByEventID(context.Background(), "et-loose")
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC); !d.CreatedAt.Equal(want) || d.Flags != smile.FlagCreatedAtNoZone {
			t.Errorf("got createdAt %v flags %q, want %v and %q", d.CreatedAt, d.Flags, want, smile.FlagCreatedAtNoZone)
		}
		var row models.DataAvailability
		if err := s.DB().Where("account_id = ? AND datapoint = ?", "a-loose", "INCOMES").Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.ItemsAdded != 3 {
			t.Errorf("got %d incomes added, want 3 from the string count", row.ItemsAdded)
		}
	})
}
