package ingest

import (
	"context"
	"fmt"
	"reflect"
	"smiledash/models"
	"strconv"
	"strings"
	"time"
)

// FieldChange is one projected value that an event changed.
type FieldChange struct {
	Table, Key, Field string
	Before, After     string
	// NewRow is set when the event created the row.
	NewRow bool
}

// Effects are the projection changes one event caused.
type Effects struct {
	Changes []FieldChange
	// Replayed is how many earlier events were replayed to rebuild the state
	// just before this one; Truncated says the replay stopped at effectsCap.
	Replayed  int
	Truncated bool
	// Unresolved says the event's user is not created yet
	// (models.Event.Unresolved): the projector has not reached the event, and
	// without the user's key there is nothing to replay it as, so Changes is
	// empty.
	Unresolved bool
}

// effectsCap bounds the replay behind one event's effects.
const effectsCap = 20_000

// EventEffects computes what an event changed in the projections by replay:
// projections are a pure function of the events ordered by (createdAt, id), so
// the state just before the event is the fold of every event of the same user
// (or, for user-less records and verifications, every user-less event) that
// orders before it, and the state after is that fold plus the event. Only the
// rows the event touches are compared. This is the event's effect in Smile's
// order, which is what the stored projections reflect, even when the event
// arrived late. The replay reads the user's events on the (user_key,
// created_at, seq) index, newest effectsCap first. An event whose user the
// projector has not created yet is not replayed at all (Effects.Unresolved);
// unresolved events are neither user-less events nor, without a key, any
// user's.
func (l *Log) EventEffects(ctx context.Context, ev models.Event) (Effects, error) {
	if ev.Unresolved() {
		return Effects{Unresolved: true}, nil
	}
	target, err := projectedFromStored(ev)
	if err != nil {
		return Effects{}, fmt.Errorf("ingest: effects of event %d: %w", ev.Seq, err)
	}
	db := l.db.WithContext(ctx).Select("seq", "user_key", "flags", "body").Order("created_at DESC, seq DESC").Limit(effectsCap + 1)
	if ev.UserKey != nil {
		db = db.Where("user_key = ? AND created_at <= ? AND seq <> ?", *ev.UserKey, ev.CreatedAt, ev.Seq)
	} else {
		db = db.Where("user_key IS NULL AND pending_user = '' AND created_at <= ? AND seq <> ?", ev.CreatedAt, ev.Seq)
	}
	var rows []models.Event
	if err := db.Find(&rows).Error; err != nil {
		return Effects{}, fmt.Errorf("ingest: replay before event %d: %w", ev.Seq, err)
	}
	out := Effects{}
	if len(rows) > effectsCap {
		rows, out.Truncated = rows[:effectsCap], true
	}
	p := newProjection()
	for _, row := range rows {
		pe, err := projectedFromStored(row)
		if err != nil {
			return Effects{}, fmt.Errorf("ingest: replay before event %d: %w", ev.Seq, err)
		}
		if target.Stamp.After(pe.Stamp) {
			p.apply(pe)
			out.Replayed++
		}
	}
	t := touchedBy([]ProjectedEvent{target})
	before := p.loaded()
	p.apply(target)
	out.Changes = diffAll(p, t, before)
	out.Changes = append(out.Changes, FieldChange{Table: "event_counts", Key: string(target.Type), Field: "stored", Before: "n", After: "n + 1"})
	return out, nil
}

func diffAll(p *projection, t touched, b rowValues) []FieldChange {
	str := func(s string) string { return s }
	var out []FieldChange
	out = append(out, diffRows("smile_users", t.users, b.users, p.users, func(k int64) string { return strconv.FormatInt(k, 10) })...)
	out = append(out, diffRows("accounts", t.accounts, b.accounts, p.accounts, str)...)
	out = append(out, diffRows("data_availability", t.data, b.data, p.data, func(k dataKey) string { return k.accountID + " " + k.datapoint })...)
	out = append(out, diffRows("archives", t.archives, b.archives, p.archives, str)...)
	out = append(out, diffRows("invites", t.invites, b.invites, p.invites, str)...)
	out = append(out, diffRows("tasks", t.tasks, b.tasks, p.tasks, func(k taskKey) string { return k.sourceID + " " + k.taskType })...)
	out = append(out, diffRows("records", t.records, b.records, p.records, str)...)
	out = append(out, diffRows("verifications", t.verifications, b.verifications, p.verifications, str)...)
	return out
}

func diffRows[K comparable, V any](table string, keys []K, before map[K]V, after map[K]*V, name func(K) string) []FieldChange {
	var out []FieldChange
	for _, k := range keys {
		a, ok := after[k]
		if !ok {
			continue
		}
		b, existed := before[k]
		bv, av := reflect.ValueOf(b), reflect.ValueOf(*a)
		for i := 0; i < av.NumField(); i++ {
			bs, as := formatField(bv.Field(i)), formatField(av.Field(i))
			if bs == as && existed {
				continue
			}
			if !existed && as == "" {
				continue
			}
			out = append(out, FieldChange{Table: table, Key: name(k), Field: columnName(av.Type().Field(i)),
				Before: bs, After: as, NewRow: !existed})
		}
	}
	return out
}

func formatField(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if t, ok := v.Interface().(time.Time); ok {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	if v.Kind() == reflect.Int64 && v.Int() == 0 || v.Kind() == reflect.Bool && !v.Bool() {
		return ""
	}
	return fmt.Sprint(v.Interface())
}

func columnName(f reflect.StructField) string {
	for _, part := range strings.Split(f.Tag.Get("gorm"), ";") {
		if name, ok := strings.CutPrefix(part, "column:"); ok {
			return name
		}
	}
	return f.Name
}
