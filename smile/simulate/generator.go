package simulate

import (
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"smiledash/smile"
)

// DefaultTenant is the tenant prefix of user ids when none is given.
const DefaultTenant = "simtenant"

// userSpacing is how far apart consecutive users start: about two sign-ups a
// minute, each jittered within its slot.
const userSpacing = 30 * time.Second

// flowStream is the PCG stream the step-wise builders draw from before User is
// first called; users draw from streams derived from their index.
const flowStream = 0x5eed_f10e_5eed_f10e

// Generator produces Smile webhook sequences. Its output is a pure function of
// the seed, the tenant, the start time and the calls made: the same calls give
// the same events, byte for byte. A Generator is not safe for concurrent use;
// give each goroutine its own (NewGenerator is cheap).
type Generator struct {
	seed   uint64
	tenant string
	start  time.Time
	// end and window, when window is set, place each user's sign-up in
	// (end-window, end] and drop what would happen after end (WithWindow).
	end       time.Time
	window    time.Duration
	next      uint64 // index of the user User returns next
	src       *rand.PCG
	rng       *rand.Rand
	providers []Provider
	weights   []int

	drafts []draft // scratch: the events being built, reused between calls
	ends   []int   // scratch: end offset of each encoded body
}

// NewGenerator returns a generator whose first user signs up at start (truncated
// to the second, in UTC) and whose user ids begin with tenant (DefaultTenant when
// empty).
func NewGenerator(seed uint64, tenant string, start time.Time) *Generator {
	if tenant == "" {
		tenant = DefaultTenant
	}
	src := rand.NewPCG(seed, flowStream)
	return &Generator{
		seed:      seed,
		tenant:    tenant,
		start:     start.UTC().Truncate(time.Second),
		src:       src,
		rng:       rand.New(src),
		providers: Providers(),
		weights:   accountErrorWeights(),
	}
}

// WithWindow makes the generator date its users inside a window that ends at
// end, as a demo feed must: each user signs up at a time drawn uniformly from
// (end-window, end], and whatever the user's history would do after end (a
// monthly sync, a later disconnection) has not happened yet and is left out.
// So no event is ever dated after end. It returns g.
func (g *Generator) WithWindow(end time.Time, window time.Duration) *Generator {
	g.end, g.window = end.UTC().Truncate(time.Second), max(window, time.Second)
	return g
}

// User returns the next user's whole history, sorted by createdAt: USER_CREATED,
// then one or two linked providers (with a failed attempt now and then), data
// delivery, later monthly syncs and disconnections, and sometimes an invite or an
// uploaded archive. User n's history depends only on the seed, tenant, start and n.
func (g *Generator) User() []Event {
	evs, _ := g.appendUser(g.next, nil, nil)
	g.next++
	return evs
}

// appendUser builds user i's events, appending them to evs and their bodies to
// buf, which it returns grown. Passing the previous call's slices, truncated,
// reuses their memory; the previous events' bodies are then overwritten.
func (g *Generator) appendUser(i uint64, evs []Event, buf []byte) ([]Event, []byte) {
	g.src.Seed(g.seed, mix(i))
	g.drafts = g.drafts[:0]
	g.userHistory(i)
	slices.SortStableFunc(g.drafts, func(a, b draft) int { return a.at.Compare(b.at) })
	if g.window > 0 {
		n := 0
		for n < len(g.drafts) && !g.drafts[n].at.After(g.end) {
			n++
		}
		g.drafts = g.drafts[:n]
	}
	return g.render(evs, buf)
}

// render encodes the drafts after evs and buf. Bodies are sliced only once all are
// written, as buf may move while it grows.
func (g *Generator) render(evs []Event, buf []byte) ([]Event, []byte) {
	g.ends = g.ends[:0]
	base := len(buf)
	for i := range g.drafts {
		buf = g.drafts[i].appendJSON(buf)
		g.ends = append(g.ends, len(buf))
	}
	start := base
	for i := range g.drafts {
		d, end := &g.drafts[i], g.ends[i]
		evs = append(evs, Event{ID: d.id, Type: d.typ, CreatedAt: d.at, Body: buf[start:end:end]})
		start = end
	}
	return evs, buf
}

// renderNew encodes the drafts into fresh memory, for the exported builders.
func (g *Generator) renderNew() []Event {
	const bodySize = 400 // a little more than most bodies need
	evs, _ := g.render(make([]Event, 0, len(g.drafts)), make([]byte, 0, bodySize*len(g.drafts)))
	return evs
}

// mix spreads a user index over the PCG sequence space (SplitMix64 finaliser), so
// neighbouring users get unrelated streams.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hexID returns prefix followed by 32 lowercase hex digits.
func (g *Generator) hexID(prefix string) string {
	var raw [16]byte
	for i := range 2 {
		v := g.rng.Uint64()
		for j := range 8 {
			raw[i*8+j] = byte(v >> (8 * j))
		}
	}
	var b strings.Builder
	b.Grow(len(prefix) + 32)
	b.WriteString(prefix)
	var out [32]byte
	hex.Encode(out[:], raw[:])
	b.Write(out[:])
	return b.String()
}

// NewUserID returns a fresh user id in Smile's format, `<tenant>-` and 32 hex digits.
func (g *Generator) NewUserID() string { return g.hexID(g.tenant + "-") }

// NewAccountID returns a fresh account id, `a-` and 32 hex digits.
func (g *Generator) NewAccountID() string { return g.hexID("a-") }

// NewArchiveID returns a fresh archive id, `archive-` and 32 hex digits.
func (g *Generator) NewArchiveID() string { return g.hexID("archive-") }

// between returns a uniform integer in [lo, hi].
func (g *Generator) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.IntN(hi-lo+1)
}

// seconds returns a uniform whole number of seconds in [lo, hi].
func (g *Generator) seconds(lo, hi int) time.Duration {
	return time.Duration(g.between(lo, hi)) * time.Second
}

// chance reports true with probability p.
func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// weighted returns an index into weights, chosen in proportion to them.
func (g *Generator) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// emit adds a draft with a fresh event id and returns it for the caller to fill.
func (g *Generator) emit(typ smile.EventType, at time.Time) *draft {
	g.drafts = append(g.drafts, draft{typ: typ, at: at, id: g.hexID("et-")})
	return &g.drafts[len(g.drafts)-1]
}

// loginName makes a plausible login: an e-mail address or a user name.
func (g *Generator) loginName() string {
	firsts, lasts := firstNames(), lastNames()
	first, last := firsts[g.rng.IntN(len(firsts))], lasts[g.rng.IntN(len(lasts))]
	switch g.rng.IntN(3) {
	case 0:
		return first + "." + last + "@example.com"
	case 1:
		return first + last + itoa(g.between(1, 99)) + "@example.org"
	}
	return first + "." + last + itoa(g.between(1, 999))
}

// provider returns the catalogue entry for id, or a default one.
func (g *Generator) provider(id string) Provider {
	for _, p := range g.providers {
		if p.ID == id {
			return p
		}
	}
	return defaultProvider(id)
}
