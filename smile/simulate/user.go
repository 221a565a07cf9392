package simulate

import (
	"strconv"
	"time"

	"smiledash/smile"
)

// How often the generator takes each branch of a user's life. They are rough
// guesses at a healthy integration, chosen so that every branch shows up within a
// few dozen users.
const (
	pSecondProvider = 0.35 // the user links a second provider
	pAccountFails   = 0.2  // a linking attempt fails
	pRetryAfterFail = 0.5  // after a failure the user tries again
	pInvited        = 0.1  // the user came from an invite
	pArchive        = 0.15 // the user uploads an archive
	pArchiveFails   = 0.25 // its analysis fails
	pArchiveRevoked = 0.1  // an analysed archive is later revoked
	pDisconnect     = 0.12 // a connected account is later disconnected
)

// userHistory emits user i's whole life into g.drafts, unsorted.
func (g *Generator) userHistory(i uint64) {
	t := g.start.Add(time.Duration(i)*userSpacing + g.seconds(0, int(userSpacing/time.Second)-1))
	if g.window > 0 {
		t = g.end.Add(-time.Duration(g.rng.Int64N(int64(g.window/time.Second))) * time.Second)
	}
	userID := g.NewUserID()
	g.emit(smile.UserCreated, t).userID = userID

	var inviteID string
	if g.chance(pInvited) {
		inviteID = g.hexID("iv-")
		d := g.emit(smile.InviteInvited, t.Add(g.seconds(1, 5)))
		d.userID, d.inviteID = userID, inviteID
		t = t.Add(g.seconds(3600, 48*3600)) // the user opens the e-mail later
	}
	t = t.Add(g.seconds(20, 180)) // consent page, provider list

	n := 1
	if g.chance(pSecondProvider) {
		n = 2
	}
	linked := false
	for _, pi := range g.rng.Perm(len(g.providers))[:n] {
		p := g.providers[pi]
		login := g.loginName()
		for attempt := 0; attempt < 2; attempt++ {
			accountID := g.NewAccountID()
			if g.chance(pAccountFails) {
				t = g.failedFlow(userID, accountID, p.ID, login, g.accountErrorCode(), t)
				if attempt == 1 || !g.chance(pRetryAfterFail) {
					break
				}
				t = t.Add(g.seconds(15, 90))
				continue
			}
			dps, connectedAt, end := g.connectedFlow(userID, accountID, p, login, t)
			if inviteID != "" && !linked {
				d := g.emit(smile.InviteLinked, connectedAt.Add(time.Second))
				d.userID, d.inviteID = userID, inviteID
			}
			linked = true
			g.accountLater(userID, accountID, p, dps, connectedAt, end)
			t = end
			break
		}
		t = t.Add(g.seconds(30, 600))
	}

	if g.chance(pArchive) {
		g.userArchive(userID, t.Add(g.seconds(10, 300)))
	}
}

// userArchive emits an upload that is analysed (and now and then revoked later)
// or fails.
func (g *Generator) userArchive(userID string, at time.Time) {
	archiveID := g.NewArchiveID()
	code := ""
	if g.chance(pArchiveFails) {
		codes := ArchiveErrorCodes()
		code = codes[g.rng.IntN(len(codes))]
	}
	end := g.archiveFlow(userID, archiveID, code, at)
	if code == "" && g.chance(pArchiveRevoked) {
		d := g.emit(smile.ArchiveRevoked, end.Add(g.seconds(86400, 30*86400)))
		d.userID, d.archiveID = userID, archiveID
	}
}

// accountLater emits what happens to a connected account after the link session:
// monthly syncs on the day of connection for monitored providers, and sometimes a
// disconnection after them.
func (g *Generator) accountLater(userID, accountID string, p Provider, dps []string, connectedAt, end time.Time) {
	last := end
	if p.Monitored {
		since := connectedAt
		for k := range g.weighted([]int{30, 40, 20, 10}) {
			// Smile's nightly batch runs in the early hours of the monthly anniversary.
			at := midnight(connectedAt.AddDate(0, k+1, 0)).Add(g.seconds(3600, 6*3600))
			var ok bool
			last, ok = g.syncFlow(userID, accountID, p.ID, dps, since, at)
			if !ok {
				break
			}
			since = at
		}
	}
	if g.chance(pDisconnect) {
		g.accountDraft(smile.AccountDisconnected, last.Add(g.seconds(3600, 20*86400)), userID, accountID, p.ID)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
