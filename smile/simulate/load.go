package simulate

import (
	"context"
	"time"

	"smiledash/smile"
)

// loadTypes are the events of the Random load mode: what a busy integration
// receives most, for users who already linked an account.
var loadTypes = []smile.EventType{smile.IncomesAdded, smile.EmploymentsAdded, smile.AccountConnected, smile.TaskFinished}

// loadStream separates each load worker's random stream from the others'.
const loadStream = 0x10ad_10ad_10ad_10ad

// LoadEvent returns one event of the Random load mode for user u of a pool:
// INCOMES_ADDED, EMPLOYMENTS_ADDED, ACCOUNT_CONNECTED or TASK_FINISHED (chosen
// by the generator's stream), dated at, with a fresh event id. User u always
// has the same user id, account and provider for a given seed and tenant, so
// the receiver sees repeated writes to the same rows, as with real users.
func (g *Generator) LoadEvent(u uint64, at time.Time) Event {
	g.drafts = g.drafts[:0]
	g.loadDraft(u, norm(at))
	return g.renderNew()[0]
}

// loadDraft emits one load event for user u.
func (g *Generator) loadDraft(u uint64, at time.Time) {
	h := mix(g.seed ^ mix(u))
	userID := g.tenant + "-" + hex16(h, mix(h))
	accountID := "a-" + hex16(mix(h^1), mix(h^2))
	p := g.providers[h%uint64(len(g.providers))]
	typ := loadTypes[g.rng.IntN(len(loadTypes))]
	d := g.emit(typ, at)
	d.userID, d.accountID, d.provider = userID, accountID, p.ID
	switch typ {
	case smile.AccountConnected:
		d.loginName = g.loginName()
	case smile.TaskFinished:
		d.sourceID, d.sourceType, d.taskType = accountID, sourceAccount, taskLinkAccount
		d.status, d.datapoints = statusSucceeded, sortDatapoints(append([]string(nil), p.Datapoints...))
	default:
		d.count = g.between(1, 24)
	}
}

// hex16 writes two 64-bit values as 32 lowercase hex digits.
func hex16(a, b uint64) string {
	const digits = "0123456789abcdef"
	var out [32]byte
	for i := range 16 {
		out[15-i] = digits[a>>(4*i)&0xf]
		out[31-i] = digits[b>>(4*i)&0xf]
	}
	return string(out[:])
}

// runLoad is a worker of the Random mode: until the run ends it sends one new
// event at a time, dated now, for a user picked at random from the pool.
func (w *worker) runLoad(ctx context.Context) {
	stream := w.r.loadStreams.Add(1)
	w.gen.src.Seed(w.r.cfg.Seed^loadStream, mix(stream))
	pool := uint64(w.r.cfg.Users)
	if stream == 1 {
		w.users = int64(pool) // the report's users: the pool picked from
		w.r.nextUser.Store(pool)
	}
	secret := []byte(w.r.cfg.Secret)
	sig := make([]string, 1)
	for w.r.claimEvent(ctx) {
		u := w.gen.rng.Uint64N(pool)
		w.gen.drafts = w.gen.drafts[:0]
		w.gen.loadDraft(u, norm(time.Now()))
		w.evs, w.buf = w.gen.render(w.evs[:0], w.buf[:0])
		ev := w.evs[0]
		sig[0] = smile.SignatureFor(secret, ev.Body)
		w.deliver(ev, sig, false)
		if p := w.r.cfg.Duplicates; p > 0 && w.dupRNG.Float64() < p {
			w.deliver(ev, sig, true)
		}
	}
}

// claimEvent reports whether a Random run may send another event.
func (r *runner) claimEvent(ctx context.Context) bool {
	if ctx.Err() != nil || !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
		return false
	}
	n := r.claimed.Add(1)
	return r.cfg.Events == 0 || n <= uint64(r.cfg.Events)
}
