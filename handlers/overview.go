package handlers

import (
	"github.com/gofiber/fiber/v2"

	"smiledash/views"
)

// showOverview is GET /admin: maintained counts and the latest failures.
func (h *Handler) showOverview(c *fiber.Ctx) error {
	o, err := h.pages().Overview(c.UserContext())
	if err != nil {
		return err
	}
	vm := views.OverviewPageVM{
		LayoutVM: h.pageLayout(c, "Overview", "overview"), Now: h.now(),
		TotalEvents: o.Total, Users: views.CountText(o.Users.N, o.Users.AtLeast),
	}
	for _, ct := range o.Counts {
		vm.Counts = append(vm.Counts, views.TypeCountVM{Type: ct.Type, N: ct.Stored, URL: withQuery("/admin/events", "type", ct.Type)})
	}
	for _, d := range o.Rejections {
		vm.Rejections = append(vm.Rejections, deliveryVM(d))
	}
	for _, e := range o.Failures {
		vm.Failures = append(vm.Failures, eventRowVM(e))
	}
	return render(c, fiber.StatusOK, views.OverviewPage(vm))
}
