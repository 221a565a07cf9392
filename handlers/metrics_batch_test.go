package handlers_test

import (
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models/ingest"
)

// TestObserveBatch_CountsLostRejections: rejection records the database
// refused used to vanish from every metric.
func TestObserveBatch_CountsLostRejections(t *testing.T) {
	m := handlers.NewMetrics()
	m.ObserveBatch(ingest.BatchReport{Size: 2, Rejections: 5, RejectionsLost: 5})
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

// TestMetrics_ProjectorLagAndBatches: the projector's lag is read from the
// store at scrape time and its batches are counted by outcome.
func TestMetrics_ProjectorLagAndBatches(t *testing.T) {
	m := handlers.NewMetrics()
	m.WatchProjectorLag(fakeLag{n: 7, behind: time.Hour, parked: 3})
	m.ObserveProjector(ingest.ProjectorReport{Projected: 10, Parked: 1, Duration: time.Millisecond})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			name := f.GetName()
			for _, l := range metric.GetLabel() {
				name += "/" + l.GetValue()
			}
			switch {
			case metric.GetGauge() != nil:
				got[name] = metric.GetGauge().GetValue()
			case metric.GetCounter() != nil:
				got[name] = metric.GetCounter().GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"smiledash_projector_lag_events": 7, "smiledash_projector_parked_events": 3,
		"smiledash_projector_events_total/projected": 10, "smiledash_projector_events_total/parked": 1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	// The fake's oldest event is an hour before the overview's clock, which is
	// in the past: the lag in seconds is at least that.
	if got["smiledash_projector_lag_seconds"] < 3600 {
		t.Errorf("smiledash_projector_lag_seconds = %v, want ≥ 3600", got["smiledash_projector_lag_seconds"])
	}
}
