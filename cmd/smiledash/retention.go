package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"smiledash/models"
)

// maxRetainDays bounds the retention settings (about 100 years): beyond it a
// number is a typo, and the duration would overflow.
const maxRetainDays = 36500

// retentionConfig is how long expired data is kept, in days; 0 keeps it forever.
type retentionConfig struct {
	BodiesDays     int
	DeliveriesDays int
	bodies         string
	deliveries     string
}

// settings are the retention variables and flags.
func (r *retentionConfig) settings() []setting {
	return []setting{
		{"SMILEDASH_RETAIN_BODIES_DAYS", "retain-bodies-days", strconv.Itoa(models.DefaultRetainBodiesDays),
			"days to keep webhooks' raw bodies before they are compacted to what projections read; 0 keeps them forever", &r.bodies},
		{"SMILEDASH_RETAIN_DELIVERIES_DAYS", "retain-deliveries-days", strconv.Itoa(models.DefaultRetainDeliveriesDays),
			"days to keep rejected and duplicate delivery records; 0 keeps them forever", &r.deliveries},
	}
}

// parse reads the two settings as whole days.
func (r *retentionConfig) parse() error {
	var err error
	if r.BodiesDays, err = parseRetainDays("SMILEDASH_RETAIN_BODIES_DAYS", r.bodies); err != nil {
		return err
	}
	r.DeliveriesDays, err = parseRetainDays("SMILEDASH_RETAIN_DELIVERIES_DAYS", r.deliveries)
	return err
}

func parseRetainDays(name, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxRetainDays {
		return 0, fmt.Errorf("%s must be a whole number of days from 0 (keep forever) to %d, got %q", name, maxRetainDays, v)
	}
	return n, nil
}

// policy is the store's retention policy for this configuration.
func (r retentionConfig) policy(log *slog.Logger) models.RetentionPolicy {
	day := 24 * time.Hour
	return models.RetentionPolicy{
		Bodies:     time.Duration(r.BodiesDays) * day,
		Deliveries: time.Duration(r.DeliveriesDays) * day,
		Log:        log.With(slog.String("component", "retention")),
	}
}

// startRetention starts the background retention job; stop ends it, waiting
// for the batch in progress.
func startRetention(cfg Config, store *models.Store, log *slog.Logger) (stop func()) {
	log.Info("Retention", slog.Int("bodies_days", cfg.Retention.BodiesDays), slog.Int("deliveries_days", cfg.Retention.DeliveriesDays))
	return store.StartRetention(cfg.Retention.policy(log))
}
