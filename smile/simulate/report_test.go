package simulate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBucketOf checks every value lands in a bucket whose top is at most 1/64
// above it, and that buckets are ordered like values.
func TestBucketOf(t *testing.T) {
	prev := 0
	for us := uint64(0); us < 1<<22; us += 1 + us/97 {
		idx := bucketOf(us)
		high := bucketHigh(idx)
		if high < us || high-us > us/64 {
			t.Fatalf("value %dµs: got bucket %d topping at %dµs, want within 1/64 above", us, idx, high)
		}
		if idx < prev {
			t.Fatalf("value %dµs: got bucket %d after bucket %d", us, idx, prev)
		}
		prev = idx
	}
	if got := bucketOf(1 << 40); got != histBuckets-1 {
		t.Errorf("got bucket %d for a huge value, want the last, %d", got, histBuckets-1)
	}
}

func TestHistogram_Quantiles(t *testing.T) {
	var a, b histogram
	for us := 1; us <= 10000; us++ {
		h := &a
		if us%2 == 0 {
			h = &b // two workers' histograms, merged below
		}
		h.record(time.Duration(us) * time.Microsecond)
	}
	a.merge(&b)
	l := a.summary()
	tests := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"p50", l.P50, 5000 * time.Microsecond},
		{"p90", l.P90, 9000 * time.Microsecond},
		{"p99", l.P99, 9900 * time.Microsecond},
		{"max", l.Max, 10000 * time.Microsecond},
		{"mean", l.Mean, 5000500 * time.Nanosecond},
	}
	for _, tc := range tests {
		if tc.got < tc.want || tc.got > tc.want+tc.want/64 {
			t.Errorf("%s: got %v, want %v to within 1/64 above", tc.name, tc.got, tc.want)
		}
	}
	if l.Count != 10000 {
		t.Errorf("got count %d, want 10000", l.Count)
	}
	var empty histogram
	if got := empty.summary(); got != (Latency{}) {
		t.Errorf("got %+v for no samples, want zeros", got)
	}
}

func TestHistogram_RecordDoesNotAllocate(t *testing.T) {
	var h histogram
	if n := testing.AllocsPerRun(1000, func() { h.record(1234 * time.Microsecond) }); n != 0 {
		t.Errorf("got %v allocations per record, want 0", n)
	}
}

func testReport() Report {
	return Report{
		Users: 10, Sent: 220, Acknowledged: 215, Duplicates: 20,
		ByStatus:    map[string]int64{"200": 215, "503": 4, "error: timeout": 1},
		ByType:      map[string]int64{"USER_CREATED": 10, "ACCOUNT_CREATED": 190},
		ErrorSample: "Post \"http://x\": context deadline exceeded",
		Elapsed:     2 * time.Second, Throughput: 107.5,
		Latency: Latency{Count: 219, Mean: 1500 * time.Microsecond, P50: 1200 * time.Microsecond,
			P90: 2500 * time.Microsecond, P99: 9 * time.Millisecond, Max: 31 * time.Millisecond},
	}
}

func TestReport_String(t *testing.T) {
	got := testReport().String()
	for _, want := range []string{
		"users          10\n",
		"sent           220 (20 duplicates)\n",
		"acknowledged   215 (5 failed)\n",
		"elapsed        2s\n",
		"throughput     107.5 acknowledged events/s\n",
		"by status      200: 215, 503: 4, error: timeout: 1\n",
		"latency        p50 1.2ms  p90 2.5ms  p99 9ms  max 31ms  mean 1.5ms  (219 requests)\n",
		"first error    Post",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got report\n%s\nwant it to contain %q", got, want)
		}
	}
}

func TestReport_JSON(t *testing.T) {
	b, err := testReport().JSON()
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	var got struct {
		Sent         int64              `json:"sent"`
		Failed       int64              `json:"failed"`
		ByStatus     map[string]int64   `json:"byStatus"`
		Elapsed      float64            `json:"elapsedSeconds"`
		EventsPerSec float64            `json:"acknowledgedPerSecond"`
		Latency      map[string]float64 `json:"latencyMs"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if got.Sent != 220 || got.Failed != 5 || got.ByStatus["503"] != 4 || got.Elapsed != 2 ||
		got.EventsPerSec != 107.5 || got.Latency["p99"] != 9 || got.Latency["p50"] != 1.2 {
		t.Errorf("got %s, want the report's figures in seconds and milliseconds", b)
	}
}
