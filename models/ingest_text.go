package models

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"smiledash/smile"
)

// PostgreSQL text cannot hold NUL (nor invalid UTF-8); SQLite can. Rather than
// let a hostile or odd payload fail a transaction (and, with group commit, the
// events of everyone else in it), text is made storable here, at the store's
// boundary, the same way on both databases:
//   - an event's raw body is kept byte for byte (it is a BLOB / BYTEA);
//   - its envelope and projections are decoded from a copy of the body in
//     which the JSON escape \u0000 reads \ufffd, so a NUL in a field becomes
//     U+FFFD; a rebuild decodes the stored body the same way and agrees;
//   - rejection records replace NUL and invalid UTF-8 with U+FFFD.

var (
	nulEscape         = []byte(`\u0000`)
	replacementEscape = []byte(`\ufffd`)
)

// projectionBody returns body with every JSON escape \u0000 rewritten to
// \ufffd, or body itself when it has none. An escaped backslash followed by
// "u0000" (`\\u0000`) is text, not a NUL, and is left alone.
func projectionBody(body []byte) []byte {
	if !bytes.Contains(body, nulEscape) {
		return body
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' || i+1 >= len(body) {
			out = append(out, body[i])
			continue
		}
		if bytes.HasPrefix(body[i:], nulEscape) {
			out = append(out, replacementEscape...)
			i += len(nulEscape) - 1
			continue
		}
		// Any other escape: copy the backslash and the escaped byte together,
		// so the second backslash of `\\` never starts an escape.
		out = append(out, body[i], body[i+1])
		i++
	}
	return out
}

// parseStorable decodes the envelope the store keeps and projects from a
// verified body: the same as smile.ParseEnvelope unless a text field holds a
// NUL, which then reads U+FFFD.
func parseStorable(body []byte) (smile.Envelope, error) {
	return smile.ParseEnvelope(projectionBody(body))
}

// storable returns in ready for the writer: when its body carries a NUL in a
// text field, a copy whose envelope is decoded again by parseStorable, and the
// source address made storable text.
func storable(in *Incoming) (*Incoming, error) {
	if !bytes.Contains(in.Body, nulEscape) && isStorableText(in.SourceIP) {
		return in, nil
	}
	out := *in
	out.SourceIP = storableText(in.SourceIP)
	if bytes.Contains(in.Body, nulEscape) {
		env, err := parseStorable(in.Body)
		if err != nil {
			return nil, fmt.Errorf("models: decode event %s without NUL: %w", in.Envelope.ID, err)
		}
		out.Envelope = env
	}
	return &out, nil
}

// isStorableText reports whether s can go into a PostgreSQL text column as is.
func isStorableText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// storableText replaces NUL and invalid UTF-8 in s with U+FFFD.
func storableText(s string) string {
	if isStorableText(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// storable returns r with every text field storable.
func (r Rejection) storable() Rejection {
	r.SourceIP = storableText(r.SourceIP)
	r.Reason = storableText(r.Reason)
	r.EventID = storableText(r.EventID)
	r.EventType = storableText(r.EventType)
	r.Excerpt = storableText(r.Excerpt)
	return r
}
