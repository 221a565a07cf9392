package views

import (
	"strings"
	"testing"
	"time"
)

func TestStackedBars_ScalesStacksAndLabels(t *testing.T) {
	t0 := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	series := []ChartSeriesVM{{Key: "account", Label: "account", Class: "fam-account"}, {Key: "data", Label: "data", Class: "fam-data"}}
	buckets := []ChartBucketVM{
		{Start: t0, End: t0.Add(6 * time.Hour), Counts: map[string]int64{"account": 30, "data": 10}, URLs: map[string]string{"account": "/a", "data": "/d"}},
		{Start: t0.Add(6 * time.Hour), End: t0.Add(12 * time.Hour), Counts: map[string]int64{}},
	}
	c := StackedBars("volume", "Events", "Events by family", series, buckets)
	if c.Empty || len(c.Bars) != 2 || len(c.Bars[0].Segments) != 2 || len(c.Bars[1].Segments) != 0 {
		t.Fatalf("got %+v, want one stacked bar of two segments and one empty bar", c.Bars)
	}
	acc, data := c.Bars[0].Segments[0], c.Bars[0].Segments[1]
	// 40 events on a scale of 40: the bar fills the plot (188 units high), the
	// account segment at the bottom.
	if acc.H != "141.0" || data.H != "47.0" || data.Y != "8.0" || acc.URL != "/a" {
		t.Errorf("got segments %+v and %+v", acc, data)
	}
	if !strings.Contains(acc.Label, "account: 30 events, Tue 2 Jun 00:00–06:00 UTC") {
		t.Errorf("got label %q", acc.Label)
	}
	if got := c.YTicks[4].Label; got != "40" {
		t.Errorf("got top tick %q, want 40", got)
	}
	if e := StackedBars("v", "", "", series, buckets[1:]); !e.Empty {
		t.Error("a chart of zeros must say it is empty")
	}
}

func TestNiceCeilAndCompact(t *testing.T) {
	for n, want := range map[int64]int64{0: 4, 3: 4, 5: 8, 9: 20, 21: 40, 41: 80, 81: 200, 950: 2000, 12345: 20000} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
	for n, want := range map[int64]string{950: "950", 1200: "1.2k", 2000: "2k", 20000: "20k", 3_000_000: "3M"} {
		if got := compact(n); got != want {
			t.Errorf("compact(%d) = %q, want %q", n, got, want)
		}
	}
}
