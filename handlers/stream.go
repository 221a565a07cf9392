package handlers

import (
	"bufio"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"smiledash/models"
	"smiledash/models/live"
)

// liveChange is what the stream tells a page about a stored item; the page
// fetches the item's HTML itself, so the stream carries no Smile data.
type liveChange struct {
	Kind    string    `json:"kind"`
	ID      int64     `json:"id"`
	Account string    `json:"account,omitempty"`
	Label   string    `json:"label"`
	At      time.Time `json:"at"`
}

// stream is GET /admin/stream: server-sent events, one "change" per stored
// webhook, callback or action (only a user's with ?user=SMILE_ID), and a
// "delivery" change when refused or duplicate attempts were recorded, fed by
// the store's change notifications (which on PostgreSQL include other
// replicas'). Every live page uses it: the events list and timelines fetch
// the new rows, other pages offer or apply a refresh (static/js/live.js).
// A slow client loses changes rather than slowing ingest, and is told so with
// an "overflow" event. The stream ends when the server shuts down.
func (h *Handler) stream(c *fiber.Ctx) error {
	wanted := func(live.Change) bool { return true }
	if id := c.Query("user"); id != "" {
		u, err := h.pages().UserByID(c.UserContext(), id)
		if err != nil {
			return err
		}
		wanted = userChanges(u)
	}
	changes := make(chan live.Change, 256)
	var overflow atomic.Bool
	cancel := h.changes().Subscribe(func(ch live.Change) {
		if !wanted(ch) {
			return
		}
		select {
		case changes <- ch:
		default:
			overflow.Store(true)
		}
	})
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	heartbeat := h.deps.Pages.Heartbeat
	if heartbeat <= 0 {
		heartbeat = 20 * time.Second
	}
	done, conn := h.deps.Pages.Done, c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		tick := time.NewTicker(heartbeat)
		defer tick.Stop()
		send := func(s string) bool {
			// fasthttp sets one write deadline per response; a stream needs a
			// fresh one per message.
			_ = conn.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
			_, _ = w.WriteString(s)
			return w.Flush() == nil
		}
		if !send("retry: 3000\n: connected\n\n") {
			return
		}
		for {
			var msg string
			select {
			case <-done:
				return
			case <-tick.C:
				msg = ": ping\n\n"
			case ch := <-changes:
				b, _ := json.Marshal(liveChange{Kind: ch.Kind, ID: ch.ID, Account: ch.AccountID, Label: ch.Label, At: ch.At})
				msg = "event: change\ndata: " + string(b) + "\n\n"
				if overflow.Swap(false) {
					msg = "event: overflow\ndata: {}\n\n" + msg
				}
			}
			if !send(msg) {
				return
			}
		}
	})
	return nil
}

// userChanges matches a user's changes: by Smile id, which webhooks carry
// even before the user has a row, or by key. A placeholder user
// (models.SmileUser.Pending) has no key, and key 0 is every user-less change.
func userChanges(u models.SmileUser) func(live.Change) bool {
	id, key := u.ID, u.UserKey
	return func(ch live.Change) bool {
		return ch.UserID == id || (key != 0 && ch.UserKey == key)
	}
}
