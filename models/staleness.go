package models

import (
	"context"
	"fmt"
	"time"
)

// DefaultStaleAfter is how long an account's datapoints may go without a
// refresh before the account is listed as stale. Smile's Continuous Data Sync
// refreshes monthly, so pick a longer age where CDS is the only refresh.
const DefaultStaleAfter = 7 * 24 * time.Hour

// MonitorUserActionRequired is Smile's monitor status of an account whose user
// must re-authorise it (e.g. after a password change).
const MonitorUserActionRequired = "USER_ACTION_REQUIRED"

// AttentionAccount is an account a person should look at: its data is stale,
// or Smile says its user must act.
type AttentionAccount struct {
	AccountID     string    `gorm:"column:account_id"`
	UserID        string    `gorm:"column:user_id"`
	Provider      string    `gorm:"column:provider_id"`
	Status        string    `gorm:"column:status"`
	MonitorStatus string    `gorm:"column:monitor_status"`
	LastSeenAt    time.Time `gorm:"column:last_seen_at"`
	// LastRefreshedAt is the newest datapoint update (stale list only).
	LastRefreshedAt time.Time `gorm:"-"`
}

const maxAttentionRows = 200

// StaleAccounts lists accounts not DISCONNECTED whose every datapoint was last
// updated before now-age, most recently gone stale first, at most limit
// (≤ 200). It walks the data_availability_updated index down from the
// cutoff and stops once it has enough rows: an account's first row met is
// its newest, so no grouping over every stale row is needed.
func (s *Store) StaleAccounts(ctx context.Context, now time.Time, age time.Duration, limit int) ([]AttentionAccount, error) {
	if age <= 0 {
		age = DefaultStaleAfter
	}
	if limit <= 0 || limit > maxAttentionRows {
		limit = maxAttentionRows
	}
	cutoff := now.UTC().Add(-age)
	var rows []DataAvailability
	err := s.db.WithContext(ctx).Raw("SELECT d.account_id, d.last_updated_at FROM data_availability d "+
		"WHERE d.last_updated_at < ? "+
		"AND NOT EXISTS (SELECT 1 FROM data_availability f WHERE f.account_id = d.account_id AND f.last_updated_at >= ?) "+
		"AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = d.account_id AND a.status = ?) "+
		"ORDER BY d.last_updated_at DESC, d.account_id DESC LIMIT ?",
		cutoff, cutoff, AccountDisconnected, limit*staleRowsPerAccount).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: stale accounts: %w", err)
	}
	var ids []string
	newest := map[string]time.Time{}
	for _, r := range rows {
		if _, seen := newest[r.AccountID]; !seen && len(ids) < limit {
			newest[r.AccountID] = r.LastUpdatedAt
			ids = append(ids, r.AccountID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := s.attentionRows(ctx, "a.id IN ?", ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]AttentionAccount{}
	for _, r := range found {
		r.LastRefreshedAt = newest[r.AccountID]
		byID[r.AccountID] = r
	}
	out := make([]AttentionAccount, 0, len(ids))
	for _, id := range ids { // keep the index's order
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// staleRowsPerAccount is how many datapoint rows StaleAccounts reads per
// account it lists: Smile has eleven datapoints.
const staleRowsPerAccount = 12

// ActionRequired lists accounts whose monitor status is USER_ACTION_REQUIRED,
// most recently active first, at most limit (≤ 200).
func (s *Store) ActionRequired(ctx context.Context, limit int) ([]AttentionAccount, error) {
	if limit <= 0 || limit > maxAttentionRows {
		limit = maxAttentionRows
	}
	return s.attentionRows(ctx, "a.monitor_status = ?", MonitorUserActionRequired, limit)
}

func (s *Store) attentionRows(ctx context.Context, where string, arg any, limit ...int) ([]AttentionAccount, error) {
	q := s.db.WithContext(ctx).Table("accounts a").
		Select("a.id AS account_id, u.id AS user_id, a.provider_id, a.status, a.monitor_status, a.last_seen_at").
		Joins("JOIN smile_users u ON u.user_key = a.user_key").Where(where, arg).Order("a.last_seen_at DESC, a.id")
	if len(limit) > 0 {
		q = q.Limit(limit[0])
	}
	var rows []AttentionAccount
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: accounts needing attention: %w", err)
	}
	return rows, nil
}
