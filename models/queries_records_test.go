package models_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// TestRecords_PagesAndUnknownTypes pages records and verifications newest
// first on both stores, with ties on first appearance, and lists only stored
// types Smile has not documented.
func TestRecords_PagesAndUnknownTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		ctx := context.Background()
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			// Two records per second: the id breaks the tie.
			storetest.Submit(t, in, storetest.RawEvent(fmt.Sprintf("et-r-%d", i), "RECORD_CREATED", at.Add(time.Duration(i/2)*time.Second),
				fmt.Sprintf(`{"recordId":"ss-%d","recordType":"SOCIAL_SECURITY"}`, i)))
		}
		storetest.Submit(t, in, storetest.RawEvent("et-r-done", "RECORD_COMPLETED", at.Add(time.Hour),
			`{"recordId":"ss-0","recordType":"SOCIAL_SECURITY","status":"COMPLETED","resultCode":"SUCCESS","resultMessage":"ok"}`))
		storetest.Submit(t, in, storetest.RawEvent("et-v", "VERIFICATION_STARTED", at, `{"verificationId":"ver-1"}`))
		storetest.Submit(t, in, storetest.RawEvent("et-x", "PAYSLIP_GENERATED", at, `{"userId":"u-x"}`))
		var ids []string
		q := models.RecordsQuery{Limit: 2}
		for {
			page, err := s.Records(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				ids = append(ids, r.ID+":"+r.Status+":"+r.ResultCode)
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
		want := "ss-4:PROCESSING: ss-3:PROCESSING: ss-2:PROCESSING: ss-1:PROCESSING: ss-0:COMPLETED:SUCCESS"
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		v, err := s.Records(ctx, models.RecordsQuery{Kind: models.KindVerifications})
		if err != nil || len(v.Rows) != 1 || v.Rows[0].ID != "ver-1" || v.Rows[0].Status != models.StatusProcessing {
			t.Errorf("got verifications %+v (%v), want ver-1 PROCESSING", v.Rows, err)
		}
		one, err := s.Records(ctx, models.RecordsQuery{ID: "ss-3"})
		if err != nil || len(one.Rows) != 1 || one.Rows[0].ID != "ss-3" {
			t.Errorf("got %+v (%v), want ss-3 alone", one.Rows, err)
		}
		if _, err := s.Records(ctx, models.RecordsQuery{Before: "1.zz"}); err == nil {
			t.Error("got no error for a bad cursor")
		}
		unknown, err := s.UnknownEventTypes(ctx)
		if err != nil || strings.Join(unknown, ",") != "PAYSLIP_GENERATED" {
			t.Errorf("got unknown types %v (%v), want [PAYSLIP_GENERATED]", unknown, err)
		}
	})
}
