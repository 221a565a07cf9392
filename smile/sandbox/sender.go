package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"smiledash/smile"
	"smiledash/smile/simulate"
)

// attempts is how often a webhook is tried: once and, like Smile, twice more.
const attempts = 3

// step is one webhook to send; before, if set, changes the fake API first, so
// the REST API and the webhooks agree when our receiver sees the event.
type step struct {
	ev     simulate.Event
	wait   time.Duration
	before func()
}

// schedule queues a flow's events for a user, in order, each after the gap
// Smile would leave (divided by Speedup): the delay is simulated by waiting,
// and the webhook is dated when it goes. hook may return a change to apply
// right before an event is sent.
func (s *Simulator) schedule(userID string, evs []simulate.Event, hook func(simulate.Event) func()) {
	if len(evs) == 0 {
		return
	}
	steps := make([]step, len(evs))
	for i, ev := range evs {
		steps[i].ev = ev
		if i > 0 && s.opts.Speedup > 0 {
			steps[i].wait = time.Duration(float64(ev.CreatedAt.Sub(evs[i-1].CreatedAt)) / s.opts.Speedup)
		}
		if hook != nil {
			steps[i].before = hook(ev)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	running := len(s.queues[userID]) > 0
	s.queues[userID] = append(s.queues[userID], steps...)
	s.pending += len(steps)
	if !running {
		s.wg.Add(1)
		go s.drain(userID)
	}
}

// drain sends one user's queued webhooks in order until the queue is empty.
func (s *Simulator) drain(userID string) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		q := s.queues[userID]
		if len(q) == 0 {
			delete(s.queues, userID)
			s.mu.Unlock()
			return
		}
		st := q[0]
		s.mu.Unlock()

		if sleep(s.ctx, st.wait) {
			if at, ok := s.sendTime(userID); ok {
				if st.before != nil {
					st.before()
				}
				s.deliver(st.ev.Redated(at))
			}
		}

		s.mu.Lock()
		s.queues[userID] = s.queues[userID][1:]
		s.pending--
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// sendTime is when a user's next webhook goes out and is dated: now or, with
// SecondApart, once a second has begun that the user's previous webhook was
// not sent in. It waits for that; false means the simulator closed meanwhile.
func (s *Simulator) sendTime(userID string) (time.Time, bool) {
	at := s.opts.Now()
	if !s.opts.SecondApart {
		return at, true
	}
	s.mu.Lock()
	last, seen := s.lastSent[userID]
	s.mu.Unlock()
	if seen && !at.Truncate(time.Second).After(last) {
		if !sleep(s.ctx, last.Add(time.Second).Sub(at)) {
			return at, false
		}
		at = s.opts.Now()
	}
	s.mu.Lock()
	s.lastSent[userID] = at.Truncate(time.Second)
	s.mu.Unlock()
	return at, true
}

// deliver POSTs one signed webhook to our receiver, retrying as Smile does.
func (s *Simulator) deliver(ev simulate.Event) {
	url := s.ReceiverURL()
	log := s.opts.Log.With(slog.String("event_id", ev.ID), slog.String("type", string(ev.Type)))
	if url == "" {
		log.Warn("Sandbox webhook dropped: the receiver address is not known yet")
		return
	}
	sig := smile.SignatureFor(s.opts.Secret, ev.Body)
	for attempt := 1; attempt <= attempts; attempt++ {
		err := s.post(url, ev.Body, sig)
		if err == nil {
			log.Debug("Sandbox webhook sent", slog.Int("attempt", attempt))
			return
		}
		log.Warn("Sandbox webhook not acknowledged", slog.Int("attempt", attempt), slog.Any("error", err))
		if attempt == attempts || !sleep(s.ctx, s.opts.RetryDelay) {
			return
		}
	}
}

func (s *Simulator) post(url string, body []byte, sig string) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(smile.SignatureHeader, sig)
	req.Header.Set("User-Agent", "smiledash-sandbox/1")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
