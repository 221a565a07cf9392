package ingest

import (
	"bytes"

	"smiledash/models"
)

// storable returns in ready for the writer: in itself, or a copy whose
// envelope and source address hold no NUL.
func storable(in *Incoming) *Incoming {
	if !bytes.Contains(in.Body, models.NULEscape) && models.IsStorableText(in.SourceIP) {
		return in
	}
	out := *in
	out.SourceIP = models.StorableText(in.SourceIP)
	if bytes.Contains(in.Body, models.NULEscape) {
		out.Envelope = models.WithoutNUL(in.Envelope)
	}
	return &out
}

// storable returns r with every text field storable.
func (r Rejection) storable() Rejection {
	r.SourceIP = models.StorableText(r.SourceIP)
	r.Reason = models.StorableText(r.Reason)
	r.EventID = models.StorableText(r.EventID)
	r.EventType = models.StorableText(r.EventType)
	r.Excerpt = models.StorableText(r.Excerpt)
	return r
}
