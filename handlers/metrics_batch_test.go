package handlers_test

import (
	"testing"

	"smiledash/handlers"
	"smiledash/models"
)

// TestObserveBatch_CountsLostRejections: rejection records the database
// refused used to vanish from every metric.
func TestObserveBatch_CountsLostRejections(t *testing.T) {
	m := handlers.NewMetrics()
	m.ObserveBatch(models.BatchReport{Size: 2, Rejections: 5, RejectionsLost: 5})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "smiledash_webhook_rejections_unrecorded_total" {
			if got := f.GetMetric()[0].GetCounter().GetValue(); got != 5 {
				t.Errorf("got %v unrecorded rejections, want 5", got)
			}
			return
		}
	}
	t.Error("no smiledash_webhook_rejections_unrecorded_total series")
}
