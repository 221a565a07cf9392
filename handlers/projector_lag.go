package handlers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/views"
)

// The projections follow the event log: a webhook is acknowledged once its
// event is stored, and the projector applies it to users, accounts and the
// overview shortly after. When it falls behind, or parks an event it cannot
// project, every signed-in page says so, and /metrics exports it.

// lagBannerAfter is how far behind the projector must be before pages say so:
// under load it is always a few events behind, which is not news.
const lagBannerAfter = 2 * time.Second

// lagCache reads the projector's lag at most once a second, whatever the
// number of pages rendered and scrapes.
type lagCache struct {
	reader ProjectorLagReader
	mu     sync.Mutex
	at     time.Time
	lag    models.ProjectorLag
	err    error
}

func newLagCache(r ProjectorLagReader) *lagCache { return &lagCache{reader: r} }

// read returns the lag, from the cache when it is under a second old.
func (l *lagCache) read(ctx context.Context) (models.ProjectorLag, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.at) < time.Second {
		return l.lag, l.err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	l.lag, l.err = l.reader.ProjectorLag(ctx)
	l.at = time.Now()
	return l.lag, l.err
}

// parkedURL is where the overview lists parked events.
const parkedURL = "/admin#parked"

// lagVM is the overview's projector line.
func lagVM(lag models.ProjectorLag, now time.Time) *views.ProjectorLagVM {
	return &views.ProjectorLagVM{OK: lag.Events == 0, Events: views.Thousands(lag.Events),
		Behind: lag.Behind(now).Round(time.Second).String(), Parked: views.Thousands(lag.Parked)}
}

// lagBanner is the banner of a signed-in page: nil while the projections are
// current (or the lag cannot be read: the overview says so).
func (h *Handler) lagBanner(ctx context.Context) *views.LagBannerVM {
	if h.deps.Pages.ProjectorLag == nil {
		return nil
	}
	lag, err := h.lag.read(ctx)
	if err != nil {
		return nil
	}
	behind := lag.Behind(h.now())
	if lag.Parked == 0 && behind < lagBannerAfter {
		return nil
	}
	warn := h.deps.Pages.LagWarn
	if warn <= 0 {
		warn = ingest.DefaultLagWarn
	}
	vm := &views.LagBannerVM{Loud: behind >= warn || lag.Parked > 0, ParkedURL: parkedURL}
	if behind >= lagBannerAfter {
		vm.Text = fmt.Sprintf("Projections are %s events / %s behind the event log: users, accounts and the overview "+
			"do not show the newest webhooks yet. Webhooks are still acknowledged and stored.",
			views.Thousands(lag.Events), behind.Round(time.Second))
	}
	if lag.Parked > 0 {
		vm.Parked = fmt.Sprintf("%s events could not be projected and are parked; a rebuild tries them again.", views.Thousands(lag.Parked))
	}
	return vm
}
