package models

import (
	"bytes"
	"reflect"
	"strings"
	"unicode/utf8"

	"smiledash/smile"
)

// PostgreSQL text cannot hold NUL (nor invalid UTF-8); SQLite can. Rather than
// let a hostile or odd payload fail a transaction (and, with group commit, the
// events of everyone else in it), text is made storable here, at the store's
// boundary, the same way on both databases:
//   - an event's raw body is kept byte for byte (it is a BLOB / BYTEA);
//   - a NUL that its JSON escapes (\u0000) into a field reads U+FFFD in the
//     decoded envelope, so in the event's columns and its projections; a
//     rebuild decodes the stored body the same way and agrees. (JSON cannot
//     carry a NUL byte unescaped, and the decoder already turns invalid UTF-8
//     into U+FFFD.);
//   - rejection records replace NUL and invalid UTF-8 with U+FFFD.

// NULEscape is how JSON spells a NUL.
var NULEscape = []byte(`\u0000`)

// ParseStoredBody decodes the envelope the store keeps and projects from a
// stored body, as the writer does for a new one.
func ParseStoredBody(body []byte) (smile.Envelope, error) {
	env, err := smile.ParseEnvelope(body)
	if err != nil || !bytes.Contains(body, NULEscape) {
		return env, err
	}
	return WithoutNUL(env), nil
}

// WithoutNUL returns env with every NUL in its strings replaced by U+FFFD. It
// copies what it changes (pointed-to values, slices), so env's own are kept.
// Decoded fields are walked generically, so fields added to smile.EventData
// later are covered too.
func WithoutNUL(env smile.Envelope) smile.Envelope {
	replaceNUL(reflect.ValueOf(&env).Elem())
	return env
}

func replaceNUL(v reflect.Value) {
	if !v.CanSet() {
		return // unexported, e.g. inside time.Time
	}
	switch v.Kind() {
	case reflect.String:
		if strings.IndexByte(v.String(), 0) >= 0 {
			v.SetString(strings.ReplaceAll(v.String(), "\x00", "\uFFFD"))
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(v.Elem())
		v.Set(c)
		replaceNUL(c.Elem())
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		v.Set(c)
		for i := range c.Len() {
			replaceNUL(c.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			replaceNUL(v.Field(i))
		}
	}
}

// IsStorableText reports whether s can go into a PostgreSQL text column as is.
func IsStorableText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// StorableText replaces NUL and invalid UTF-8 in s with U+FFFD.
func StorableText(s string) string {
	if IsStorableText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
