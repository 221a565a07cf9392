package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"smiledash/smile"
)

// retainedKey is the first member of a body that retention compacted. It comes
// first so a compacted body is recognised by its prefix, without parsing.
const retainedKey = "smiledash_retained"

var retainedPrefix = []byte(`{"` + retainedKey + `":`)

// Retained says that retention replaced an event's raw body with its compact
// form, when, and how large the original was.
type Retained struct {
	At            time.Time `json:"at"`
	OriginalBytes int       `json:"originalBytes"`
}

// RetainedOf reports whether body is a compact body written by retention, and
// what it records.
func RetainedOf(body []byte) (Retained, bool) {
	if !bytes.HasPrefix(body, retainedPrefix) {
		return Retained{}, false
	}
	var w struct {
		Retained *Retained `json:"smiledash_retained"`
	}
	if json.Unmarshal(body, &w) != nil || w.Retained == nil {
		return Retained{}, false
	}
	return *w.Retained, true
}

// compactEnvelope is the body retention keeps: the envelope's id, version, type
// and createdAt as Smile sent them, and of data only the fields smile.EventData
// reads, which are all the projections (and the timeline's summaries) use.
type compactEnvelope struct {
	Retained  Retained        `json:"smiledash_retained"`
	ID        string          `json:"id"`
	Version   json.RawMessage `json:"version,omitempty"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	Data      json.RawMessage `json:"data"`
}

// CompactBody returns the compact form of a stored webhook body: what
// smile.ParseEnvelope reads from it is exactly what it reads from body, so
// projections rebuilt from compact bodies equal those built from the
// originals. Everything else Smile sent (fields we do not read) is dropped.
// A body that is already compact is returned as it is.
func CompactBody(body []byte, at time.Time) ([]byte, error) {
	if _, ok := RetainedOf(body); ok {
		return body, nil
	}
	env, err := smile.ParseEnvelope(body)
	if err != nil {
		return nil, fmt.Errorf("models: compact body: %w", err)
	}
	// The wire strings, so the compact form parses to the same time, flags and
	// version as the original did.
	var wire struct {
		Version   json.RawMessage `json:"version"`
		CreatedAt string          `json:"createdAt"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, fmt.Errorf("models: compact body: %w", err)
	}
	data, err := compactData(env.Data)
	if err != nil {
		return nil, err
	}
	if string(wire.Version) == "null" {
		wire.Version = nil
	}
	out, err := json.Marshal(compactEnvelope{
		Retained: Retained{At: at.UTC(), OriginalBytes: len(body)},
		ID:       env.ID, Version: wire.Version, Type: string(env.Type), CreatedAt: wire.CreatedAt, Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("models: compact body: %w", err)
	}
	return out, nil
}

// compactData writes the fields of d that are set, under their JSON names. A
// field left out decodes to its zero value, which is what it was; a pointer to
// an empty string or an empty list is kept, as it differs from absent.
func compactData(d smile.EventData) (json.RawMessage, error) {
	v := reflect.ValueOf(d)
	t := v.Type()
	fields := map[string]any{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || v.Field(i).IsZero() {
			continue
		}
		fields[name] = v.Field(i).Interface()
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("models: compact event data: %w", err)
	}
	return out, nil
}
