package models

import (
	"context"
	"fmt"
	"time"
)

// Limits of the connect endpoints. A person connecting accounts posts a few
// dozen callbacks and asks for a handful of tokens; the limits are far above
// that and far below what would fill a disk or spend our share of Smile's
// 20 requests/s. Each is one throttle counter, shared by every replica.
const (
	// MaxCallbacksPerSession is how many callbacks one connect page (widget
	// session) may post per minute.
	MaxCallbacksPerSession = 120
	// MaxCallbacksPerLink is how many callbacks all pages of one link may post
	// per minute.
	MaxCallbacksPerLink = 600
	// MaxCallbackBytesPerLink is how many callback bytes one link may post per
	// day (24 hours from its first callback of the window).
	MaxCallbackBytesPerLink = 5 << 20
	// MaxTokensPerLink is how many Smile Link tokens one link may get (page
	// opens and refreshes) per TokenWindow.
	MaxTokensPerLink = 30
	// TokenWindow is the window of MaxTokensPerLink.
	TokenWindow = 10 * time.Minute
	// CallbackWindow and CallbackBytesWindow are the callback limits' windows.
	CallbackWindow      = time.Minute
	CallbackBytesWindow = 24 * time.Hour
)

// ActionLinkThrottled is recorded on a link's timeline when one of its limits
// refuses a request: once per burst (per limit and window), not per request.
const ActionLinkThrottled = "link_throttled"

// LinkVerdict is what a connect limit decided for a request.
type LinkVerdict struct {
	Allowed    bool
	RetryAfter time.Duration
	// Limit names the limit that refused, in plain words.
	Limit string
}

type linkLimit struct {
	key   string
	name  string
	limit Throttle
	cost  int64
}

// TakeCallback counts one callback of size bytes posted by a widget session
// of link l, against the session's and the link's limits per minute and the
// link's bytes per day. Limits are taken in that order and a refusal stops
// there, so a page flooding alone is refused before it uses up its link's
// allowance.
func (s *Store) TakeCallback(ctx context.Context, l Link, sessionID int64, size int, now time.Time) (LinkVerdict, error) {
	return s.takeLinkLimits(ctx, l, now, sessionID,
		linkLimit{fmt.Sprintf("connect:callbacks:session:%d", sessionID), "callbacks per minute from one page",
			Throttle{MaxCallbacksPerSession, CallbackWindow}, 1},
		linkLimit{fmt.Sprintf("connect:callbacks:link:%d", l.ID), "callbacks per minute for this link",
			Throttle{MaxCallbacksPerLink, CallbackWindow}, 1},
		linkLimit{fmt.Sprintf("connect:callback-bytes:link:%d", l.ID), "callback bytes per day for this link",
			Throttle{MaxCallbackBytesPerLink, CallbackBytesWindow}, int64(max(size, 1))},
	)
}

// TakeToken counts one Smile Link token asked for by link l (a page open or a
// refresh), before Smile is asked.
func (s *Store) TakeToken(ctx context.Context, l Link, sessionID int64, now time.Time) (LinkVerdict, error) {
	return s.takeLinkLimits(ctx, l, now, sessionID,
		linkLimit{fmt.Sprintf("connect:tokens:link:%d", l.ID), "Smile tokens per 10 minutes for this link",
			Throttle{MaxTokensPerLink, TokenWindow}, 1})
}

func (s *Store) takeLinkLimits(ctx context.Context, l Link, now time.Time, sessionID int64, limits ...linkLimit) (LinkVerdict, error) {
	for _, lim := range limits {
		v, err := s.TakeThrottle(ctx, lim.key, lim.limit, lim.cost, now)
		if err != nil {
			return LinkVerdict{}, err
		}
		if v.Allowed {
			continue
		}
		if v.FirstRefusal {
			detail := map[string]any{
				"limit": lim.name, "max": lim.limit.Max, "window_seconds": int64(lim.limit.Window / time.Second),
				"retry_after_seconds": int64((v.RetryAfter + time.Second - 1) / time.Second),
			}
			if sessionID != 0 {
				detail["session_id"] = sessionID
			}
			if err := s.recordLinkAction(ctx, l, ActionLinkThrottled, "smiledash", now, detail); err != nil {
				return LinkVerdict{}, err
			}
		}
		return LinkVerdict{RetryAfter: v.RetryAfter, Limit: lim.name}, nil
	}
	return LinkVerdict{Allowed: true}, nil
}
