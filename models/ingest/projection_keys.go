package ingest

import (
	"slices"
	"smiledash/models"
	"smiledash/smile"
	"time"
)

// touched lists the keys a batch of events reads, so the writer can load them.
type touched struct {
	users         []int64
	accounts      []string
	archives      []string
	invites       []string
	tasks         []taskKey
	data          []dataKey
	records       []string
	verifications []string
	types         []string
}

func touchedBy(events []ProjectedEvent) touched {
	var t touched
	for _, ev := range events {
		d := ev.Data
		t.types = append(t.types, string(ev.Type))
		switch {
		case d.RecordID != "":
			t.records = append(t.records, d.RecordID)
		case d.VerificationID != "":
			t.verifications = append(t.verifications, d.VerificationID)
		}
		if ev.UserKey == 0 {
			continue
		}
		t.users = append(t.users, ev.UserKey)
		if id := d.Account(); id != "" {
			t.accounts = append(t.accounts, id)
			if point, change := ev.Type.DataEvent(); change != smile.NoDataChange {
				t.data = append(t.data, dataKey{id, string(point)})
			}
			for _, name := range d.TaskDatapoints() {
				t.data = append(t.data, dataKey{id, string(smile.TaskDatapoint(name))})
			}
		}
		if d.ArchiveID != "" {
			t.archives = append(t.archives, d.ArchiveID)
		}
		if d.InviteID != "" {
			t.invites = append(t.invites, d.InviteID)
		}
		if d.SourceID != "" {
			t.tasks = append(t.tasks, taskKeyOf(ev))
		}
	}
	t.users = uniq(t.users)
	t.accounts, t.archives, t.invites = uniq(t.accounts), uniq(t.archives), uniq(t.invites)
	t.records, t.verifications, t.types = uniq(t.records), uniq(t.verifications), uniq(t.types)
	t.tasks, t.data = uniqComparable(t.tasks), uniqComparable(t.data)
	return t
}

func uniq[T int64 | string](s []T) []T {
	slices.Sort(s)
	return slices.Compact(s)
}

func uniqComparable[T comparable](s []T) []T {
	seen := make(map[T]struct{}, len(s))
	out := s[:0]
	for _, v := range s {
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// stampOf is the stamp a projected value was stored with.
func stampOf(at *time.Time, rank int, eventID string) models.Stamp {
	if at == nil {
		return models.Stamp{}
	}
	return models.Stamp{At: *at, Rank: rank, EventID: eventID}
}

func minTime(cur *time.Time, t time.Time) *time.Time {
	if cur == nil || t.Before(*cur) {
		return timePtr(t)
	}
	return cur
}

func maxTime(cur *time.Time, t time.Time) *time.Time {
	if cur == nil || t.After(*cur) {
		return timePtr(t)
	}
	return cur
}

func timePtr(t time.Time) *time.Time { return &t }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
