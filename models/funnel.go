package models

import (
	"context"
	"fmt"
	"sort"
	"time"

	"smiledash/smile"
)

// Funnel is the connection funnel of one range: how many connect links were
// opened, how many of those pages' widgets talked to us, and how many accounts
// Smile then reported created, connected and failed, overall and per provider.
//
// Where each step comes from:
//   - LinksOpened: distinct links with a link_opened action (our connect page
//     was served) in the range;
//   - WidgetsOpened: distinct links whose widget posted at least one callback
//     (any onX, including onUIEvent) in the range;
//   - Created, Connected, Failed: ACCOUNT_CREATED, ACCOUNT_CONNECTED and
//     ACCOUNT_FAILED webhooks dated in the range (the daily or hourly counters).
//
// The first two steps know no provider (the end user picks one inside the
// widget), so per-provider funnels start at Created. Accounts connected
// outside smiledash's connect links also count from Created on, so a later
// step can exceed an earlier one.
type Funnel struct {
	From, To  time.Time
	Overall   FunnelSteps
	Providers []ProviderFunnel // most accounts created first
}

// FunnelSteps counts each step of the funnel.
type FunnelSteps struct {
	LinksOpened, WidgetsOpened int64
	Created, Connected, Failed int64
}

// ProviderFunnel is the account part of the funnel for one provider ("" when
// Smile named none).
type ProviderFunnel struct {
	Provider string
	FunnelSteps
}

// Funnel reads the connection funnel for events dated in [from, to). Each step
// is an index range: (kind, at, link_id) on actions, (received_at, link_id) on
// callbacks, and the counters (days for a range of whole UTC days, else hours
// overlapping the range).
func (s *Store) Funnel(ctx context.Context, from, to time.Time) (Funnel, error) {
	from, to = from.UTC(), to.UTC()
	f := Funnel{From: from, To: to}
	db := s.db.WithContext(ctx)
	err := db.Raw("SELECT COUNT(DISTINCT link_id) FROM actions WHERE kind = ? AND at >= ? AND at < ? AND link_id IS NOT NULL",
		ActionLinkOpened, from, to).Scan(&f.Overall.LinksOpened).Error
	if err != nil {
		return Funnel{}, fmt.Errorf("models: funnel links opened: %w", err)
	}
	err = db.Raw("SELECT COUNT(DISTINCT link_id) FROM callbacks WHERE received_at >= ? AND received_at < ? AND link_id IS NOT NULL",
		from, to).Scan(&f.Overall.WidgetsOpened).Error
	if err != nil {
		return Funnel{}, fmt.Errorf("models: funnel widgets opened: %w", err)
	}
	var rows []struct {
		ProviderID string
		Type       string
		Stored     int64
	}
	table, col, lo, hi := counters(from, to, 86400)
	err = db.Raw("SELECT provider_id, type, SUM(stored) AS stored FROM "+table+" WHERE "+col+" >= ? AND "+col+" < ? AND type IN ? "+
		"GROUP BY provider_id, type", lo, hi, funnelTypes).Scan(&rows).Error
	if err != nil {
		return Funnel{}, fmt.Errorf("models: funnel accounts: %w", err)
	}
	byProvider := map[string]*ProviderFunnel{}
	for _, r := range rows {
		p := byProvider[r.ProviderID]
		if p == nil {
			p = &ProviderFunnel{Provider: r.ProviderID}
			byProvider[r.ProviderID] = p
		}
		for _, steps := range []*FunnelSteps{&p.FunnelSteps, &f.Overall} {
			switch smile.EventType(r.Type) {
			case smile.AccountCreated:
				steps.Created += r.Stored
			case smile.AccountConnected:
				steps.Connected += r.Stored
			case smile.AccountFailed:
				steps.Failed += r.Stored
			}
		}
	}
	for _, p := range byProvider {
		f.Providers = append(f.Providers, *p)
	}
	sort.Slice(f.Providers, func(i, j int) bool {
		a, b := f.Providers[i], f.Providers[j]
		if a.Created != b.Created {
			return a.Created > b.Created
		}
		return a.Provider < b.Provider
	})
	return f, nil
}
