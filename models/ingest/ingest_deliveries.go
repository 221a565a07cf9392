package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"smiledash/models"

	"gorm.io/gorm"
)

// recordDeliveries writes the batch's duplicate and rejection records after
// its events, under a savepoint: a record the database refuses is rolled back
// alone and reported as lost, never failing the events. err is set only when
// the transaction itself is broken.
func (in *Writer) recordDeliveries(tx *gorm.DB, records []Rejection) (lost int, err error) {
	if len(records) == 0 {
		return 0, nil
	}
	if err := tx.SavePoint("deliveries").Error; err != nil {
		return 0, fmt.Errorf("ingest: deliveries savepoint: %w", err)
	}
	writeErr := in.writeDeliveries(tx, records)
	if writeErr == nil {
		return 0, nil
	}
	if err := tx.RollbackTo("deliveries").Error; err != nil {
		return 0, fmt.Errorf("ingest: roll back delivery records: %w", errors.Join(writeErr, err))
	}
	in.log.Warn("Delivery records not stored", slog.Int("count", len(records)), slog.Any("error", writeErr))
	return len(records), nil
}

// writeDeliveries inserts the records and prunes the table now and then.
func (in *Writer) writeDeliveries(tx *gorm.DB, records []Rejection) error {
	for i := range records {
		records[i] = records[i].storable()
	}
	if err := insertDeliveries(tx, records); err != nil {
		return err
	}
	if in.sincePrune+len(records) < 1000 {
		in.sincePrune += len(records)
		return nil
	}
	if err := pruneDeliveries(tx, in.opts.MaxDeliveries); err != nil {
		return err
	}
	in.sincePrune = 0
	return nil
}

func duplicateOf(in *Incoming) Rejection {
	return Rejection{
		ReceivedAt: in.ReceivedAt, SourceIP: in.SourceIP, Reason: models.ReasonDuplicate, Status: 200,
		EventID: in.Envelope.ID, EventType: string(in.Envelope.Type), BodyBytes: len(in.Body),
	}
}
