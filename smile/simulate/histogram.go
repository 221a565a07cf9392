package simulate

import (
	"math"
	"math/bits"
	"time"
)

// The latency histogram is log-linear, like HDR histograms: values are whole
// microseconds; below 128µs each value has its own bucket, and above, every power
// of two is split into 64 buckets, so any recorded value is known within 1/64
// (1.6%). Recording is an index computation and an increment: no allocation, no
// lock (each worker has its own histogram, merged at the end).
const (
	histSubBits = 7
	histSub     = 1 << histSubBits // values with their own bucket
	histHalf    = histSub / 2      // buckets per power of two above
	// histShifts powers of two cover values up to 2^32µs (71 minutes); longer ones
	// share the last bucket, while the exact maximum is kept apart.
	histShifts  = 32 - histSubBits
	histBuckets = histSub + histShifts*histHalf
)

// histogram counts latencies.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	sum    time.Duration
	max    time.Duration
}

// bucketOf returns the bucket of a value in microseconds.
func bucketOf(us uint64) int {
	if us < histSub {
		return int(us)
	}
	shift := bits.Len64(us) - histSubBits
	idx := histSub + (shift-1)*histHalf + int(us>>shift) - histHalf
	return min(idx, histBuckets-1)
}

// bucketHigh returns the largest value, in microseconds, that falls in bucket idx.
func bucketHigh(idx int) uint64 {
	if idx < histSub {
		return uint64(idx)
	}
	k := idx - histSub
	shift := k/histHalf + 1
	m := uint64(k%histHalf + histHalf)
	return (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the value below which a fraction q of the recorded values lie,
// rounded up to its bucket's top and never above the maximum.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketHigh(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}

// summary returns the latency figures of the report.
func (h *histogram) summary() Latency {
	l := Latency{Count: h.n, Max: h.max}
	if h.n == 0 {
		return l
	}
	l.Mean = h.sum / time.Duration(h.n)
	l.P50, l.P90, l.P99 = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99)
	return l
}
