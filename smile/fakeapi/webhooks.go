package fakeapi

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"smiledash/smile"
)

type webhookRecord struct {
	seq     uint64
	webhook smile.Webhook
}

const webhookCursorKind = "webhooks"

// allEvents is the subscription wildcard of RefWebhookEventType.
const allEvents = "ALL_EVENTS"

// createWebhook serves POST /webhooks. The spec answers 200 here, not 201
// (smile-api.md §2.5).
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, _ []string) {
	var in struct {
		Name           *string  `json:"name"`
		URL            *string  `json:"url"`
		EventTypes     []string `json:"eventTypes"`
		Active         *bool    `json:"active"`
		Secret         *string  `json:"secret"`
		IncludePayload *bool    `json:"includePayload"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if problem := checkWebhook(in.Name, in.URL, in.EventTypes, in.Active, in.Secret); problem != "" {
		invalidParameters(w, "%s", problem)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rec := &webhookRecord{seq: s.nextSeq(), webhook: smile.Webhook{
		ID:         randomHex(16), // the spec's examples use bare 32-hex webhook ids
		CreatedAt:  now,
		Name:       *in.Name,
		URL:        *in.URL,
		Secret:     *in.Secret,
		EventTypes: slices.Clone(in.EventTypes),
		Active:     *in.Active,
		UpdatedAt:  now,
	}}
	if in.IncludePayload != nil {
		rec.webhook.IncludePayload = *in.IncludePayload
	}
	s.webhooks[rec.webhook.ID] = rec
	writeData(w, http.StatusOK, copyWebhook(rec.webhook))
}

// checkWebhook applies WebhookPostRequest's rules and returns the first
// problem, or "".
func checkWebhook(name, rawURL *string, eventTypes []string, active *bool, secret *string) string {
	switch {
	case name == nil || *name == "" || utf8.RuneCountInString(*name) > 200:
		return "name is required (1 to 200 characters)"
	case rawURL == nil || *rawURL == "" || utf8.RuneCountInString(*rawURL) > 500:
		return "url is required (1 to 500 characters)"
	case !isHTTPSURL(*rawURL):
		return "url must begin with https://"
	case len(eventTypes) == 0:
		return "eventTypes is required"
	case active == nil:
		return "active is required"
	case secret == nil || *secret == "" || utf8.RuneCountInString(*secret) > 64:
		return "secret is required (1 to 64 characters)"
	}
	for _, t := range eventTypes {
		if t != allEvents && !smile.EventType(t).Known() {
			return "eventTypes has an unknown event type"
		}
	}
	return ""
}

func isHTTPSURL(raw string) bool {
	if !strings.HasPrefix(raw, "https://") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && u.Host != ""
}

// listWebhooks serves GET /webhooks, oldest first.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, _ []string) {
	size, ok := pageSize(w, r)
	if !ok {
		return
	}
	after, ok := decodeCursor(w, r, webhookCursorKind)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	page, next := paginate(s.sortedWebhooks(), func(h *webhookRecord) uint64 { return h.seq }, after, size, webhookCursorKind)
	items := make([]smile.Webhook, len(page))
	for i, h := range page {
		items[i] = copyWebhook(h.webhook)
	}
	writeData(w, http.StatusOK, listData[smile.Webhook]{NextCursor: next, Items: items})
}

// getWebhook serves GET /webhooks/{id}.
func (s *Server) getWebhook(w http.ResponseWriter, _ *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.webhooks[segs[1]]
	if h == nil {
		notFound(w, "Webhook")
		return
	}
	writeData(w, http.StatusOK, copyWebhook(h.webhook))
}

// deleteWebhook serves DELETE /webhooks/{id}.
func (s *Server) deleteWebhook(w http.ResponseWriter, _ *http.Request, segs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhooks[segs[1]] == nil {
		notFound(w, "Webhook")
		return
	}
	delete(s.webhooks, segs[1])
	writeEnvelope(w, http.StatusOK, envelope{Code: smile.CodeOK, Message: "Success"})
}

// Webhooks returns the registered webhooks, oldest first.
func (s *Server) Webhooks() []smile.Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.sortedWebhooks()
	out := make([]smile.Webhook, len(recs))
	for i, h := range recs {
		out[i] = copyWebhook(h.webhook)
	}
	return out
}

// sortedWebhooks returns the webhooks in creation order; s.mu must be held.
func (s *Server) sortedWebhooks() []*webhookRecord {
	recs := make([]*webhookRecord, 0, len(s.webhooks))
	for _, h := range s.webhooks {
		recs = append(recs, h)
	}
	slices.SortFunc(recs, func(a, b *webhookRecord) int { return cmp.Compare(a.seq, b.seq) })
	return recs
}

func copyWebhook(h smile.Webhook) smile.Webhook {
	h.EventTypes = slices.Clone(h.EventTypes)
	return h
}
