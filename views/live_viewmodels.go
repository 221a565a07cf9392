package views

import (
	"strings"
	"time"
	"unicode/utf8"
)

// RawPreviewBytes is how much of a stored JSON body or callback's arguments a
// page shows. Past it the page shows the start and links to the whole, so no
// page grows with the payloads it lists.
const RawPreviewBytes = 4 << 10

// RawVM is stored JSON as a page shows it: the exact bytes (up to
// RawPreviewBytes) with an indented view beside them, and where to download it.
type RawVM struct {
	// Exact is the stored text, unchanged, cut at RawPreviewBytes.
	Exact string
	// Pretty is Exact indented for reading; "" when Exact is cut.
	Pretty string
	// Bytes is the full stored size.
	Bytes     int64
	Truncated bool
	// URL downloads the whole of it.
	URL string
}

// RawView builds the view of stored JSON from its first bytes (at least
// RawPreviewBytes+1 of them, or all) and its full size.
func RawView(prefix []byte, total int64, url string) RawVM {
	vm := RawVM{Bytes: max(total, int64(len(prefix))), URL: url}
	if vm.Bytes > RawPreviewBytes {
		vm.Truncated = true
		prefix = prefix[:min(len(prefix), RawPreviewBytes)]
		// Cut at a character boundary so the page never shows half a rune.
		for len(prefix) > 0 && !utf8.Valid(prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	vm.Exact = strings.ToValidUTF8(string(prefix), "\uFFFD")
	if !vm.Truncated {
		vm.Pretty = PrettyJSON(prefix)
	}
	return vm
}

// TimeRangeVM is a filter's time range: a preset or custom from/to typed in
// Zone (UTC, or the zone the page's clock was set to when it was submitted).
type TimeRangeVM struct {
	// Range is "", "1h", "24h", "7d" or "custom".
	Range    string
	From, To string
	Zone     string
	// FromAt and ToAt are From and To read in Zone, so the page can show them
	// again in whatever zone its clock is set to.
	FromAt, ToAt time.Time
}

// rangeChoices are the presets offered, in order.
var rangeChoices = []struct{ Value, Label string }{
	{"", "Any time"}, {"1h", "Last hour"}, {"24h", "Last 24 h"}, {"7d", "Last 7 days"}, {"custom", "Custom…"},
}

// EventGapVM is the events a live list left out between two rows it shows.
type EventGapVM struct {
	After, Before int64
	Count         string
	// URL fetches the missing rows (and a further gap row if they overflow).
	URL string
}
