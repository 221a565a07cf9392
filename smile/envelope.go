package smile

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// MaxEventIDLength bounds the envelope id we accept. Smile's ids are about 35
// characters; the bound keeps a hostile signed body from making huge index keys.
const MaxEventIDLength = 200

// ErrBadEnvelope is wrapped by every envelope parsing error.
var ErrBadEnvelope = errors.New("smile: not a valid webhook envelope")

// Envelope is the common wrapper of every webhook (smile-api.md §2.6).
type Envelope struct {
	ID        string
	Version   int
	Type      EventType
	CreatedAt time.Time
	// Data holds the type-specific fields the projections read.
	Data EventData
	// Flags name what was odd about the envelope but read anyway
	// (FlagCreatedAtNoZone); nil for a clean one.
	Flags []string
}

// Flags stored with an event: what Smile sent that was loose or suspicious,
// read leniently rather than refused (a refusal loses the event after Smile's
// two retries).
const (
	// FlagCreatedAtNoZone: createdAt had no zone or offset; it was read as UTC,
	// which Smile documents as its zone.
	FlagCreatedAtNoZone = "created_at_no_zone"
	// FlagCreatedAtFuture: createdAt was more than MaxCreatedAtAhead after the
	// time we received the event. The event is stored but drives no state: it
	// would otherwise outrank every real event for as long as its date lies ahead.
	FlagCreatedAtFuture = "created_at_future"
)

// MaxCreatedAtAhead is how far after its receipt an event may be dated before
// FlagCreatedAtFuture applies. Clocks drift by seconds, not days.
const MaxCreatedAtAhead = 24 * time.Hour

// FutureDated reports whether an event dated createdAt and received at
// receivedAt is dated implausibly far ahead.
func FutureDated(createdAt, receivedAt time.Time) bool {
	return createdAt.Sub(receivedAt) > MaxCreatedAtAhead
}

type wireEnvelope struct {
	ID        string          `json:"id"`
	Version   json.Number     `json:"version"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// ParseEnvelope decodes a webhook body. id, type and createdAt are required; data
// may be absent or null (some types carry nothing we read). Fields we do not know
// are ignored, as Smile adds fields and types over time.
func ParseEnvelope(body []byte) (Envelope, error) {
	var w wireEnvelope
	if err := json.Unmarshal(body, &w); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrBadEnvelope, err)
	}
	env := Envelope{ID: strings.TrimSpace(w.ID), Type: EventType(strings.TrimSpace(w.Type))}
	switch {
	case env.ID == "":
		return Envelope{}, fmt.Errorf("%w: id is missing", ErrBadEnvelope)
	case len(env.ID) > MaxEventIDLength:
		return Envelope{}, fmt.Errorf("%w: id is longer than %d characters", ErrBadEnvelope, MaxEventIDLength)
	case env.Type == "":
		return Envelope{}, fmt.Errorf("%w: type is missing", ErrBadEnvelope)
	case len(env.Type) > 100:
		return Envelope{}, fmt.Errorf("%w: type is longer than 100 characters", ErrBadEnvelope)
	case w.CreatedAt == "":
		return Envelope{}, fmt.Errorf("%w: createdAt is missing", ErrBadEnvelope)
	}
	created, zoneless, err := parseCreatedAt(w.CreatedAt)
	if zoneless {
		env.Flags = append(env.Flags, FlagCreatedAtNoZone)
	}
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: createdAt: %v", ErrBadEnvelope, err)
	}
	if created.IsZero() {
		return Envelope{}, fmt.Errorf("%w: createdAt is the zero time", ErrBadEnvelope)
	}
	env.CreatedAt = created
	if w.Version != "" {
		v, err := w.Version.Int64()
		if err != nil {
			return Envelope{}, fmt.Errorf("%w: version %q is not a whole number", ErrBadEnvelope, w.Version)
		}
		env.Version = int(v)
	}
	if len(w.Data) > 0 && string(w.Data) != "null" {
		env.Data = decodeEventData(w.Data)
	}
	return env, nil
}

// decodeEventData reads the fields the projections use. A field of an unexpected
// type (Smile changing a shape, or an undocumented value) is skipped rather
// than failing the whole event: the raw body is stored either way, and the
// event is projected from what could be read. Data that is not an object
// yields no fields.
func decodeEventData(raw json.RawMessage) EventData {
	var d EventData
	if json.Unmarshal(raw, &d) == nil {
		return d
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return EventData{}
	}
	d = EventData{}
	v := reflect.ValueOf(&d).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if value, ok := fields[name]; ok {
			// Each field on its own: a bad one leaves only itself empty.
			if json.Unmarshal(value, v.Field(i).Addr().Interface()) != nil {
				v.Field(i).SetZero()
			}
		}
	}
	return d
}

// zonelessLayouts are the date-time shapes without a zone that createdAt is
// read in (as UTC). Fractions of a second are optional in each.
var zonelessLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// parseCreatedAt reads createdAt: an ISO-8601 date-time with a zone, or
// without one, read as UTC and reported as zoneless.
func parseCreatedAt(s string) (t time.Time, zoneless bool, err error) {
	t, err = ParseTime(s)
	if err == nil {
		return t, false, nil
	}
	for _, layout := range zonelessLayouts {
		if zt, zerr := time.ParseInLocation(layout, strings.TrimSpace(s), time.UTC); zerr == nil {
			return zt, true, nil
		}
	}
	return time.Time{}, false, err
}

// ParseTime reads Smile's ISO-8601 date-times. Smile documents
// yyyy-MM-ddTHH:mm:ssZ; offsets and fractions are accepted too. The result is UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("smile: %q is not an ISO-8601 date-time", s)
	}
	return t.UTC(), nil
}
