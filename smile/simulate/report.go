package simulate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Report is what a Run did.
type Report struct {
	// Users is how many users' histories were started.
	Users int64
	// Sent counts HTTP requests, repeats included.
	Sent int64
	// Acknowledged counts requests answered with a 2xx status.
	Acknowledged int64
	// Duplicates counts the repeated deliveries among Sent.
	Duplicates int64
	// ByStatus counts outcomes: HTTP statuses by code ("200", "503") and
	// transport errors by kind ("error: timeout", "error: connection refused").
	ByStatus map[string]int64
	// ByType counts distinct events sent per type, repeats excluded.
	ByType map[string]int64
	// ErrorSample is the text of one transport error, if any occurred.
	ErrorSample string
	// Elapsed is the wall time of the run.
	Elapsed time.Duration
	// Throughput is acknowledged events per second of Elapsed.
	Throughput float64
	// Latency summarises the time from sending a request to reading its whole
	// response, for every request that got a response.
	Latency Latency
}

// Latency summarises request latencies. Percentiles are exact to within 1/64.
type Latency struct {
	Count                    int64
	Mean, P50, P90, P99, Max time.Duration
}

// Failed counts requests not acknowledged: other statuses and transport errors.
func (r Report) Failed() int64 { return r.Sent - r.Acknowledged }

// progressLine is one line of progress during a run. Requests still waiting
// for their answer are in flight, not failed: only a non-2xx answer or a
// transport error counts as failed, as in the final report.
type progressLine struct {
	Elapsed                    time.Duration
	Users, Sent, Acked, Failed int64
	EventsPerSec               float64
}

// String is the line as printed, e.g.
// "    2.0s  users 40  sent 800  acknowledged 790  in flight 8  failed 2  395 events/s".
func (p progressLine) String() string {
	inFlight := max(p.Sent-p.Acked-p.Failed, 0)
	return fmt.Sprintf("%7.1fs  users %d  sent %d  acknowledged %d  in flight %d  failed %d  %.0f events/s",
		p.Elapsed.Seconds(), p.Users, p.Sent, p.Acked, inFlight, p.Failed, p.EventsPerSec)
}

// merge adds up the workers' tallies.
func merge(workers []*worker, elapsed time.Duration) Report {
	rep := Report{ByStatus: map[string]int64{}, ByType: map[string]int64{}, Elapsed: elapsed}
	var hist histogram
	for _, w := range workers {
		rep.Users += w.users
		rep.Sent += w.sent
		rep.Acknowledged += w.acked
		rep.Duplicates += w.dups
		for code, n := range w.statuses {
			if n > 0 {
				rep.ByStatus[strconv.Itoa(code)] += n
			}
		}
		for kind, n := range w.errs {
			rep.ByStatus[kind] += n
		}
		for typ, n := range w.types {
			rep.ByType[string(typ)] += n
		}
		if rep.ErrorSample == "" {
			rep.ErrorSample = w.errSample
		}
		hist.merge(&w.latency)
	}
	if s := elapsed.Seconds(); s > 0 {
		rep.Throughput = float64(rep.Acknowledged) / s
	}
	rep.Latency = hist.summary()
	return rep
}

// String is a human summary of the run, several lines long.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "users          %d\n", r.Users)
	fmt.Fprintf(&b, "sent           %d (%d duplicates)\n", r.Sent, r.Duplicates)
	fmt.Fprintf(&b, "acknowledged   %d (%d failed)\n", r.Acknowledged, r.Failed())
	fmt.Fprintf(&b, "elapsed        %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "throughput     %.1f acknowledged events/s\n", r.Throughput)
	fmt.Fprintf(&b, "by status      %s\n", joinCounts(r.ByStatus))
	l := r.Latency
	fmt.Fprintf(&b, "latency        p50 %s  p90 %s  p99 %s  max %s  mean %s  (%d requests)\n",
		roundLatency(l.P50), roundLatency(l.P90), roundLatency(l.P99), roundLatency(l.Max),
		roundLatency(l.Mean), l.Count)
	if r.ErrorSample != "" {
		fmt.Fprintf(&b, "first error    %s\n", r.ErrorSample)
	}
	return b.String()
}

// joinCounts lists counts by key, "200: 1000, 503: 12", or "none".
func joinCounts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// roundLatency keeps three significant figures or so.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// reportJSON is the wire form of Report: durations in seconds or milliseconds, so
// scripts need not know Go's nanoseconds.
type reportJSON struct {
	Users          int64            `json:"users"`
	Sent           int64            `json:"sent"`
	Acknowledged   int64            `json:"acknowledged"`
	Failed         int64            `json:"failed"`
	Duplicates     int64            `json:"duplicates"`
	ByStatus       map[string]int64 `json:"byStatus"`
	ByType         map[string]int64 `json:"byType"`
	ErrorSample    string           `json:"errorSample,omitempty"`
	ElapsedSeconds float64          `json:"elapsedSeconds"`
	EventsPerSec   float64          `json:"acknowledgedPerSecond"`
	Latency        latencyJSON      `json:"latencyMs"`
}

type latencyJSON struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// MarshalJSON encodes the report with durations as numbers: elapsedSeconds and
// latencyMs.
func (r Report) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	l := r.Latency
	return json.Marshal(reportJSON{
		Users: r.Users, Sent: r.Sent, Acknowledged: r.Acknowledged, Failed: r.Failed(),
		Duplicates: r.Duplicates, ByStatus: r.ByStatus, ByType: r.ByType, ErrorSample: r.ErrorSample,
		ElapsedSeconds: r.Elapsed.Seconds(), EventsPerSec: r.Throughput,
		Latency: latencyJSON{Count: l.Count, Mean: ms(l.Mean), P50: ms(l.P50), P90: ms(l.P90),
			P99: ms(l.P99), Max: ms(l.Max)},
	})
}

// JSON returns the report as indented JSON, for scripts and benchmark records.
func (r Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("simulate: encode report: %w", err)
	}
	return b, nil
}
