package ingest

import (
	"gorm.io/gorm"

	"smiledash/models"
)

// gapHook keeps the gaps table in step with projected events, inside the
// projector's transaction. seen remembers users already given their no_link
// row (or found linked), so a busy user costs one statement, not one per event.
type gapHook struct {
	seen map[int64]struct{}
}

const maxGapSeenUsers = 200_000

func newGapHook() *gapHook { return &gapHook{seen: map[int64]struct{}{}} }

// project closes the gaps events answer and opens no_link gaps for users no
// connect link is bound to.
func (h *gapHook) project(tx *gorm.DB, events []ProjectedEvent) error {
	if err := h.noLinks(tx, events); err != nil {
		return err
	}
	for _, ev := range events {
		if ev.Future {
			continue
		}
		if err := models.CloseGaps(tx, gapEvent(ev)); err != nil {
			return err
		}
	}
	return nil
}

// noLinks opens the no_link gaps of the batch's users not seen yet, stamped
// with each one's first event in the batch.
func (h *gapHook) noLinks(tx *gorm.DB, events []ProjectedEvent) error {
	var firsts []models.GapEvent
	batch := map[int64]bool{}
	for _, ev := range events {
		if ev.UserKey == 0 || ev.Future || batch[ev.UserKey] {
			continue
		}
		if _, ok := h.seen[ev.UserKey]; ok {
			continue
		}
		batch[ev.UserKey] = true
		firsts = append(firsts, gapEvent(ev))
	}
	if err := models.OpenNoLinkGaps(tx, firsts); err != nil {
		return err
	}
	if len(h.seen)+len(firsts) > maxGapSeenUsers {
		clear(h.seen)
	}
	for _, ev := range firsts {
		h.seen[ev.UserKey] = struct{}{}
	}
	return nil
}

func gapEvent(ev ProjectedEvent) models.GapEvent {
	return models.GapEvent{Type: ev.Type, UserKey: ev.UserKey, AccountID: ev.Data.Account(), EventID: ev.Stamp.EventID, At: ev.Stamp.At}
}
