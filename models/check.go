package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"smiledash/smile"
)

// ActionSmileChecked is the timeline action a Check with Smile records.
const ActionSmileChecked = "smile_checked"

// SmileReader is what a Check with Smile reads from Smile (smile.Client).
type SmileReader interface {
	User(ctx context.Context, id string) (smile.User, error)
	AllAccounts(ctx context.Context, userID string) ([]smile.Account, error)
	Account(ctx context.Context, id string) (smile.Account, error)
}

var _ SmileReader = (*smile.Client)(nil)

// CheckField is one field of one account, as we hold it and as Smile reports
// it. Differs is false where we have no value yet (no webhook set it).
type CheckField struct {
	AccountID string `json:"accountId"`
	Field     string `json:"field"`
	Ours      string `json:"ours"`
	Smile     string `json:"smile"`
	Differs   bool   `json:"differs"`
}

// CheckResult is one Check with Smile of a user or of one account.
type CheckResult struct {
	UserID    string       `json:"userId"`
	AccountID string       `json:"accountId,omitempty"` // set when one account was checked
	At        time.Time    `json:"at"`
	Actor     string       `json:"actor"`
	Fields    []CheckField `json:"fields"`
	// Differences counts the fields that differ.
	Differences int `json:"differences"`
	// Error is Smile's failure in plain words; the check still is recorded.
	Error string `json:"error,omitempty"`
}

// Agrees reports whether Smile and our store agree on every field compared.
func (r CheckResult) Agrees() bool { return r.Error == "" && r.Differences == 0 }

// Missing-row markers in CheckField values.
const (
	checkAbsent = "(none)"
)

// CheckUser fetches the user's accounts from Smile, compares them field by
// field with ours and records the check on the user's timeline.
func (s *Store) CheckUser(ctx context.Context, api SmileReader, userID, actor string, now time.Time) (CheckResult, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return CheckResult{}, err
	}
	if u.Pending() {
		// The check is recorded on the user's row, which the projector has
		// not created yet.
		return CheckResult{}, fmt.Errorf("models: check user %s: not projected yet: %w", userID, ErrNotFound)
	}
	var ours []Account
	if err := s.db.WithContext(ctx).Where("user_key = ?", u.UserKey).Order("id").Limit(500).Find(&ours).Error; err != nil {
		return CheckResult{}, fmt.Errorf("models: check user %s: %w", userID, err)
	}
	res := CheckResult{UserID: userID, At: now.UTC(), Actor: actor}
	if _, err := api.User(ctx, userID); err != nil {
		res.Error = smileProblem(err, "user")
		return res, s.recordCheck(ctx, u.UserKey, res)
	}
	theirs, err := api.AllAccounts(ctx, userID)
	if err != nil {
		res.Error = smileProblem(err, "accounts")
		return res, s.recordCheck(ctx, u.UserKey, res)
	}
	res.Fields = compareAccounts(ours, theirs)
	res.Differences = countDiffering(res.Fields)
	return res, s.recordCheck(ctx, u.UserKey, res)
}

// CheckAccount is CheckUser for one account.
func (s *Store) CheckAccount(ctx context.Context, api SmileReader, accountID, actor string, now time.Time) (CheckResult, error) {
	var ours Account
	if err := s.db.WithContext(ctx).Where("id = ?", accountID).Take(&ours).Error; err != nil {
		return CheckResult{}, fmt.Errorf("models: check account %s: %w", accountID, notFound(err))
	}
	var u SmileUser
	if err := s.db.WithContext(ctx).Where("user_key = ?", ours.UserKey).Take(&u).Error; err != nil {
		return CheckResult{}, fmt.Errorf("models: check account %s: user: %w", accountID, notFound(err))
	}
	res := CheckResult{UserID: u.ID, AccountID: accountID, At: now.UTC(), Actor: actor}
	theirs, err := api.Account(ctx, accountID)
	switch {
	case smile.IsNotFound(err):
		res.Fields = compareAccounts([]Account{ours}, nil)
	case err != nil:
		res.Error = smileProblem(err, "account")
	default:
		res.Fields = compareAccounts([]Account{ours}, []smile.Account{theirs})
	}
	res.Differences = countDiffering(res.Fields)
	return res, s.recordCheck(ctx, u.UserKey, res)
}

// compareAccounts lines up our accounts and Smile's by id. An account only one
// side has is one differing "exists" field.
func compareAccounts(ours []Account, theirs []smile.Account) []CheckField {
	byID := map[string]smile.Account{}
	for _, a := range theirs {
		byID[a.ID] = a
	}
	var out []CheckField
	seen := map[string]bool{}
	for _, a := range ours {
		seen[a.ID] = true
		t, ok := byID[a.ID]
		if !ok {
			out = append(out, CheckField{AccountID: a.ID, Field: "exists", Ours: "yes", Smile: "no", Differs: true})
			continue
		}
		out = append(out, accountFields(a, t)...)
	}
	var extra []string
	for id := range byID {
		if !seen[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		out = append(out, CheckField{AccountID: id, Field: "exists", Ours: "no", Smile: "yes", Differs: true})
	}
	return out
}

func accountFields(a Account, t smile.Account) []CheckField {
	status := t.ConnectionStatus
	if status == "" {
		status = t.Connection.Status
	}
	monitor := t.MonitorStatus
	if monitor == "" {
		monitor = t.Monitor.Status
	}
	errCode := ""
	if t.Connection.ErrorCode != nil {
		errCode = *t.Connection.ErrorCode
	}
	field := func(name, ours, theirs string) CheckField {
		return CheckField{AccountID: a.ID, Field: name, Ours: orAbsent(ours), Smile: orAbsent(theirs), Differs: ours != "" && ours != theirs}
	}
	return []CheckField{
		field("connectionStatus", a.Status, status),
		field("errorCode", a.ErrorCode, errCode),
		field("providerId", a.ProviderID, t.ProviderID),
		field("monitorStatus", a.MonitorStatus, monitor),
	}
}

func orAbsent(s string) string {
	if s == "" {
		return checkAbsent
	}
	return s
}

func countDiffering(fields []CheckField) int {
	n := 0
	for _, f := range fields {
		if f.Differs {
			n++
		}
	}
	return n
}

// smileProblem says in plain words why Smile could not be read.
func smileProblem(err error, what string) string {
	switch {
	case smile.IsNotFound(err):
		return "Smile does not know this " + what + "."
	case smile.IsRateLimited(err):
		return "Smile's rate limit was reached; try again shortly."
	case smile.IsInvalidCredentials(err):
		return "Smile refused our API credentials."
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "Smile did not answer in time."
	}
	return "Smile could not be read: " + err.Error()
}

// recordCheck puts the check on the user's timeline as one of our actions.
func (s *Store) recordCheck(ctx context.Context, userKey int64, res CheckResult) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("models: encode check: %w", err)
	}
	return s.CreateAction(ctx, &Action{At: res.At, UserKey: &userKey, AccountID: res.AccountID, Kind: ActionSmileChecked, Actor: res.Actor, Detail: b})
}

// LatestCheck is the newest Check with Smile recorded for a user, if any.
func (s *Store) LatestCheck(ctx context.Context, userKey int64) (CheckResult, bool, error) {
	var a Action
	res := s.db.WithContext(ctx).Where("user_key = ? AND kind = ?", userKey, ActionSmileChecked).Order("at DESC, id DESC").Limit(1).Find(&a)
	if res.Error != nil {
		return CheckResult{}, false, fmt.Errorf("models: latest check of user %d: %w", userKey, res.Error)
	}
	if res.RowsAffected == 0 {
		return CheckResult{}, false, nil
	}
	var out CheckResult
	if err := json.Unmarshal(a.Detail, &out); err != nil {
		return CheckResult{}, false, fmt.Errorf("models: read check %d: %w", a.ID, err)
	}
	return out, true, nil
}
