package main

import (
	"strings"
	"testing"
	"time"

	"smiledash/models"
)

func TestLoadConfig_Retention(t *testing.T) {
	cfg, err := loadConfig(nil, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention.BodiesDays != models.DefaultRetainBodiesDays || cfg.Retention.DeliveriesDays != models.DefaultRetainDeliveriesDays {
		t.Errorf("got defaults %+v, want %d and %d days", cfg.Retention, models.DefaultRetainBodiesDays, models.DefaultRetainDeliveriesDays)
	}
	cfg, err = loadConfig([]string{"--retain-deliveries-days", "0"}, envOf(map[string]string{"SMILEDASH_RETAIN_BODIES_DAYS": "7"}))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Retention.policy(newLogger("error"))
	if p.Bodies != 7*24*time.Hour || p.Deliveries != 0 {
		t.Errorf("got policy bodies %v deliveries %v, want 168h and 0 (forever)", p.Bodies, p.Deliveries)
	}
	for _, bad := range []string{"-1", "ten", "1.5", "36501"} {
		_, err := loadConfig(nil, envOf(map[string]string{"SMILEDASH_RETAIN_BODIES_DAYS": bad}))
		if err == nil || !strings.Contains(err.Error(), "SMILEDASH_RETAIN_BODIES_DAYS") {
			t.Errorf("%q: got %v, want an error naming the variable", bad, err)
		}
	}
}
