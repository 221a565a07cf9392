package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units; the SVG scales to its box.
const (
	chartWidth   = 720
	chartHeight  = 220
	chartLeft    = 48 // room for the y-axis labels
	chartBottom  = 24 // room for the x-axis labels
	chartTop     = 8
	chartRight   = 8
	chartBarGap  = 2
	chartMaxTick = 8 // x labels at most
)

// ChartBucketVM is one time bucket of a stacked bar chart: counts per series
// and where each segment links.
type ChartBucketVM struct {
	Start, End time.Time
	Counts     map[string]int64
	URLs       map[string]string
}

// ChartSeriesVM is one series (a colour) of a chart and its legend entry.
type ChartSeriesVM struct {
	Key, Label string
	Class      string // CSS class that sets its fill, light and dark
	N          int64
	URL        string
}

// BarChartVM is a stacked bar chart laid out for the SVG template.
type BarChartVM struct {
	ID, Title, Desc string
	Width, Height   int
	Series          []ChartSeriesVM
	Bars            []BarVM
	YTicks          []TickVM
	XTicks          []TickVM
	Buckets         []ChartBucketVM // the table fallback
	Empty           bool
}

// BarVM is one stacked bar.
type BarVM struct {
	Segments []SegmentVM
}

// SegmentVM is one rectangle, with its accessible label and link.
type SegmentVM struct {
	X, Y, W, H string
	Class      string
	Label      string
	URL        string
}

// TickVM is an axis label and where it sits.
type TickVM struct {
	X, Y  string
	Label string
}

// StackedBars lays out buckets as stacked bars of the given series (bottom
// first). Each segment carries a label such as "account: 120 events,
// Tue 2 Jun 06:00–12:00 UTC" for screen readers and hover.
func StackedBars(id, title, desc string, series []ChartSeriesVM, buckets []ChartBucketVM) BarChartVM {
	vm := BarChartVM{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: chartHeight, Series: series, Buckets: buckets}
	var peak int64
	for _, b := range buckets {
		var sum int64
		for _, s := range series {
			sum += b.Counts[s.Key]
		}
		peak = max(peak, sum)
	}
	vm.Empty = peak == 0
	top := niceCeil(peak)
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	baseY := float64(chartHeight - chartBottom)
	for i := range 5 { // 0, ¼, ½, ¾, 1 of the scale
		v := top * int64(i) / 4
		y := baseY - plotH*float64(i)/4
		vm.YTicks = append(vm.YTicks, TickVM{X: num(chartLeft - 6), Y: num(y + 4), Label: compact(v)})
	}
	if len(buckets) == 0 {
		return vm
	}
	step := plotW / float64(len(buckets))
	every := max(1, (len(buckets)+chartMaxTick-1)/chartMaxTick)
	for i, b := range buckets {
		x := chartLeft + step*float64(i)
		y := baseY
		var bar BarVM
		for _, s := range series {
			n := b.Counts[s.Key]
			if n == 0 {
				continue
			}
			h := plotH * float64(n) / float64(top)
			y -= h
			bar.Segments = append(bar.Segments, SegmentVM{
				X: num(x + chartBarGap/2), Y: num(y), W: num(max(step-chartBarGap, 1)), H: num(max(h, 0.5)),
				Class: s.Class, URL: b.URLs[s.Key],
				Label: fmt.Sprintf("%s: %s events, %s", s.Label, Thousands(n), BucketText(b.Start, b.End)),
			})
		}
		vm.Bars = append(vm.Bars, bar)
		if i%every == 0 {
			vm.XTicks = append(vm.XTicks, TickVM{X: num(x + step/2), Y: num(chartHeight - 6), Label: tickText(b.Start, b.End)})
		}
	}
	return vm
}

// BucketText names a time bucket in UTC: "Tue 2 Jun 06:00–12:00 UTC", or the
// day alone for a whole day.
func BucketText(start, end time.Time) string {
	start, end = start.UTC(), end.UTC()
	if end.Sub(start) >= 24*time.Hour && start.Hour() == 0 {
		return start.Format("Mon 2 Jan")
	}
	return start.Format("Mon 2 Jan 15:04") + "–" + end.Format("15:04") + " UTC"
}

func tickText(start, end time.Time) string {
	start = start.UTC()
	if end.Sub(start) >= 24*time.Hour || start.Hour() == 0 {
		return start.Format("2 Jan")
	}
	return start.Format("15:04")
}

// niceCeil rounds a maximum up to 4, 8 or 20 times a power of ten, so the
// quarter ticks are round numbers (1, 2 or 5 times a power of ten).
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{4, 8, 20} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// compact writes an axis number short: 950, 1.2k, 3M.
func compact(n int64) string {
	switch {
	case n >= 1_000_000:
		return trimZero(float64(n)/1_000_000) + "M"
	case n >= 10_000:
		return strconv.FormatInt(n/1000, 10) + "k"
	case n >= 1000:
		return trimZero(float64(n)/1000) + "k"
	}
	return strconv.FormatInt(n, 10)
}

func trimZero(f float64) string { return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0") }

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func itoa(n int) string { return strconv.Itoa(n) }
