package handlers

import (
	"time"
	_ "time/tzdata" // browsers name zones the host may not have in /usr/share/zoneinfo

	"github.com/gofiber/fiber/v2"

	"smiledash/views"
)

const formTime = "2006-01-02T15:04" // <input type="datetime-local">, read in the form's zone

// rangePresets are the time-range choices of the events and timeline filters.
var rangePresets = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// timeRange reads a filter's time range: a preset (range=1h, 24h, 7d) counted
// back from now, or range=custom (or no range, as older links have) with from
// and to typed in the zone tz names (an IANA name the page's clock uses, UTC
// by default). A bad zone, preset or time is a 400 that says what to type.
func (h *Handler) timeRange(c *fiber.Ctx) (vm views.TimeRangeVM, from, to time.Time, err error) {
	vm = views.TimeRangeVM{Range: c.Query("range"), From: c.Query("from"), To: c.Query("to"), Zone: c.Query("tz", "UTC")}
	loc, err := time.LoadLocation(vm.Zone)
	if err != nil || len(vm.Zone) > 64 || vm.Zone == "" || vm.Zone == "Local" {
		return vm, from, to, badRequest("Unknown time zone: use UTC or a name like Asia/Jakarta.", err)
	}
	if d, ok := rangePresets[vm.Range]; ok {
		vm.From, vm.To = "", ""
		return vm, h.now().Add(-d), time.Time{}, nil
	}
	if vm.Range != "" && vm.Range != "custom" {
		return vm, from, to, badRequest("The time range must be 1h, 24h, 7d or custom.", nil)
	}
	if vm.From != "" || vm.To != "" {
		vm.Range = "custom"
	}
	if from, err = parseFormTime(vm.From, loc); err != nil {
		return vm, from, to, err
	}
	if to, err = parseFormTime(vm.To, loc); err != nil {
		return vm, from, to, err
	}
	vm.FromAt, vm.ToAt = from, to
	return vm, from, to, nil
}

func parseFormTime(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(formTime, s, loc)
	if err != nil {
		return time.Time{}, badRequest("Times must look like 2026-03-02T04:15.", err)
	}
	return t.UTC(), nil
}

// rangeQuery returns the range as query parameters, for links that keep the filter.
func rangeQuery(r views.TimeRangeVM) []string {
	zone := r.Zone
	if zone == "UTC" {
		zone = ""
	}
	return []string{"range", r.Range, "from", r.From, "to", r.To, "tz", zone}
}
