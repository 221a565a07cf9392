package smile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// CreateUser creates a user with optional externalMetadata and returns it
// with its first Link token (POST /users). The metadata is checked against
// Smile's limits before anything is sent.
func (c *Client) CreateUser(ctx context.Context, externalMetadata map[string]string) (User, Token, error) {
	if err := ValidateExternalMetadata(externalMetadata); err != nil {
		return User{}, Token{}, err
	}
	body := struct {
		ExternalMetadata map[string]string `json:"externalMetadata,omitempty"`
	}{externalMetadata}
	var out struct {
		User  User  `json:"user"`
		Token Token `json:"token"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/users", body: body, out: &out}); err != nil {
		return User{}, Token{}, err
	}
	if out.User.ID == "" || out.Token.AccessToken == "" {
		return User{}, Token{}, errors.New("smile: POST /users: response lacks user id or access token")
	}
	return out.User, out.Token, nil
}

// RefreshToken issues a new Link token for an existing user (POST /tokens?userId=).
func (c *Client) RefreshToken(ctx context.Context, userID string) (Token, error) {
	if err := checkID("user id", userID); err != nil {
		return Token{}, err
	}
	var tok Token
	q := url.Values{"userId": {userID}}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/tokens", query: q, out: &tok}); err != nil {
		return Token{}, err
	}
	if tok.AccessToken == "" {
		return Token{}, errors.New("smile: POST /tokens: response lacks access token")
	}
	return tok, nil
}

// User returns one user (GET /users/{id}).
func (c *Client) User(ctx context.Context, id string) (User, error) {
	var u User
	err := c.get(ctx, "user id", "/users/", id, &u)
	return u, err
}

// Accounts returns one page of accounts (GET /accounts). An empty userID lists
// every account of the tenant; an empty cursor starts at the first page; size
// 0 lets Smile choose (10), otherwise it must be 1..150.
func (c *Client) Accounts(ctx context.Context, userID, cursor string, size int) (AccountPage, error) {
	q, err := pageQuery(cursor, size)
	if err != nil {
		return AccountPage{}, err
	}
	if userID != "" {
		q.Set("userId", userID)
	}
	var out struct {
		NextCursor *string   `json:"nextCursor"`
		Items      []Account `json:"items"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/accounts", query: q, out: &out}); err != nil {
		return AccountPage{}, err
	}
	return AccountPage{Items: out.Items, NextCursor: deref(out.NextCursor)}, nil
}

// AllAccounts returns every account of a user, following nextCursor with the
// largest page size.
func (c *Client) AllAccounts(ctx context.Context, userID string) ([]Account, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, err
	}
	return allPages("list accounts of "+userID, func(cursor string) ([]Account, string, error) {
		page, err := c.Accounts(ctx, userID, cursor, MaxPageSize)
		return page.Items, page.NextCursor, err
	})
}

// allPages follows nextCursor until the last page, refusing a cursor that
// repeats (which would loop forever).
func allPages[T any](what string, page func(cursor string) ([]T, string, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	cursor := ""
	for {
		items, next, err := page(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("smile: %s: cursor %q repeats", what, next)
		}
		seen[next] = true
		cursor = next
	}
}

// Account returns one account (GET /accounts/{id}).
func (c *Client) Account(ctx context.Context, id string) (Account, error) {
	var a Account
	err := c.get(ctx, "account id", "/accounts/", id, &a)
	return a, err
}

// RevokeAccount deletes an account and its data at Smile (DELETE /accounts/{id}).
func (c *Client) RevokeAccount(ctx context.Context, id string) error {
	if err := checkID("account id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/accounts/" + url.PathEscape(id)})
}

// CreateWebhook registers a webhook endpoint (POST /webhooks). Smile is the
// judge of the request: it answers 400 INVALID_PARAMETERS for a URL that is
// not https or a secret outside 1..64 characters.
func (c *Client) CreateWebhook(ctx context.Context, req WebhookRequest) (Webhook, error) {
	if req.EventTypes == nil {
		req.EventTypes = []string{}
	}
	var w Webhook
	if err := c.do(ctx, request{method: http.MethodPost, path: "/webhooks", body: req, out: &w}); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Webhooks returns one page of registered webhooks (GET /webhooks); cursor and
// size work as in Accounts.
func (c *Client) Webhooks(ctx context.Context, cursor string, size int) (WebhookPage, error) {
	q, err := pageQuery(cursor, size)
	if err != nil {
		return WebhookPage{}, err
	}
	var out struct {
		NextCursor *string   `json:"nextCursor"`
		Items      []Webhook `json:"items"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/webhooks", query: q, out: &out}); err != nil {
		return WebhookPage{}, err
	}
	return WebhookPage{Items: out.Items, NextCursor: deref(out.NextCursor)}, nil
}

// AllWebhooks returns every registered webhook of the tenant, following
// nextCursor with the largest page size.
func (c *Client) AllWebhooks(ctx context.Context) ([]Webhook, error) {
	return allPages("list webhooks", func(cursor string) ([]Webhook, string, error) {
		page, err := c.Webhooks(ctx, cursor, MaxPageSize)
		return page.Items, page.NextCursor, err
	})
}

// ReplaceWebhook changes a registration the only way Smile's API allows
// (it has no update call, see webhook_registration.go): it creates req, then
// deletes oldID. If the delete fails, the new registration is returned with
// the error, and the old one stays at Smile until deleted.
func (c *Client) ReplaceWebhook(ctx context.Context, oldID string, req WebhookRequest) (Webhook, error) {
	if err := checkID("webhook id", oldID); err != nil {
		return Webhook{}, err
	}
	w, err := c.CreateWebhook(ctx, req)
	if err != nil {
		return Webhook{}, err
	}
	if err := c.DeleteWebhook(ctx, oldID); err != nil && !IsNotFound(err) {
		return w, fmt.Errorf("smile: replace webhook %s: created %s, but the old one remains: %w", oldID, w.ID, err)
	}
	return w, nil
}

// RegisterWebhook makes Smile deliver to req.URL with req's settings,
// without piling up registrations: it lists what Smile has (SortWebhooks),
// keeps the registration for the URL when it is up to date, replaces it when
// it is not (a rotated secret), and creates one only when there is none.
// Duplicates and registrations at other URLs are left for the caller to
// show; see SortWebhooks.
func (c *Client) RegisterWebhook(ctx context.Context, req WebhookRequest) (WebhookRegistration, error) {
	hooks, err := c.AllWebhooks(ctx)
	if err != nil {
		return WebhookRegistration{}, err
	}
	set := SortWebhooks(hooks, req)
	switch {
	case set.Current != nil && set.UpToDate:
		return WebhookRegistration{Webhook: *set.Current, Outcome: WebhookUnchanged}, nil
	case set.Current != nil:
		w, err := c.ReplaceWebhook(ctx, set.Current.ID, req)
		if w.ID == "" {
			return WebhookRegistration{}, err
		}
		return WebhookRegistration{Webhook: w, Outcome: WebhookReplaced, ReplacedID: set.Current.ID}, err
	default:
		w, err := c.CreateWebhook(ctx, req)
		if err != nil {
			return WebhookRegistration{}, err
		}
		return WebhookRegistration{Webhook: w, Outcome: WebhookCreated}, nil
	}
}

// Webhook returns one registered webhook (GET /webhooks/{id}).
func (c *Client) Webhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	err := c.get(ctx, "webhook id", "/webhooks/", id, &w)
	return w, err
}

// DeleteWebhook removes a webhook endpoint (DELETE /webhooks/{id}).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if err := checkID("webhook id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/webhooks/" + url.PathEscape(id)})
}

func (c *Client) get(ctx context.Context, what, prefix, id string, out any) error {
	if err := checkID(what, id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodGet, path: prefix + url.PathEscape(id), out: out})
}

// checkID applies the spec's id parameter limits (1..200 characters).
func checkID(what, id string) error {
	if id == "" || len(id) > 200 {
		return fmt.Errorf("%w: %s must be 1..200 characters", ErrInvalidArgument, what)
	}
	return nil
}

func pageQuery(cursor string, size int) (url.Values, error) {
	if size < 0 || size > MaxPageSize {
		return nil, fmt.Errorf("%w: page size %d is outside 1..%d", ErrInvalidArgument, size, MaxPageSize)
	}
	q := url.Values{}
	if size > 0 {
		q.Set("size", strconv.Itoa(size))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
