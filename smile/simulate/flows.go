package simulate

import (
	"time"

	"smiledash/smile"
)

// Smile's values for the task fields (RefSourceType, TaskType, AccountMonitorStatus).
const (
	sourceAccount       = "ACCOUNT"
	taskLinkAccount     = "LINK_ACCOUNT"
	statusSucceeded     = "SUCCEEDED"
	statusFailed        = "FAILED"
	monitorActive       = "ACTIVE"
	monitorActionNeeded = "USER_ACTION_REQUIRED"
)

// UserCreated returns the USER_CREATED event Smile sends when a user and its Link
// token are created.
func (g *Generator) UserCreated(userID string, at time.Time) Event {
	g.drafts = g.drafts[:0]
	g.emit(smile.UserCreated, norm(at)).userID = userID
	return g.renderNew()[0]
}

// AccountConnectedFlow returns what Smile sends when a user links an account
// successfully: ACCOUNT_CREATED at `at`, ACCOUNT_CONNECTED with loginName,
// TASK_STARTED (LINK_ACCOUNT), one *_ADDED event per datapoint the provider
// delivers, and TASK_FINISHED (SUCCEEDED) listing exactly those datapoints. Each
// event is at least a second after the one before. An unknown providerID delivers
// identity, employments and incomes; an empty loginName is replaced by a generated one.
func (g *Generator) AccountConnectedFlow(userID, accountID, providerID, loginName string, at time.Time) []Event {
	g.drafts = g.drafts[:0]
	if loginName == "" {
		loginName = g.loginName()
	}
	g.connectedFlow(userID, accountID, g.provider(providerID), loginName, norm(at))
	return g.renderNew()
}

// AccountFailedFlow returns what Smile sends when a linking attempt fails:
// ACCOUNT_CREATED at `at`, then ACCOUNT_FAILED with errorCode (one of smile-api.md
// §5.3; empty picks a realistic one) and its message.
func (g *Generator) AccountFailedFlow(userID, accountID, providerID, loginName, errorCode string, at time.Time) []Event {
	g.drafts = g.drafts[:0]
	if loginName == "" {
		loginName = g.loginName()
	}
	if errorCode == "" {
		errorCode = g.accountErrorCode()
	}
	g.failedFlow(userID, accountID, providerID, loginName, errorCode, norm(at))
	return g.renderNew()
}

// AccountDisconnected returns the ACCOUNT_DISCONNECTED event Smile sends when the
// user revokes a linked account.
func (g *Generator) AccountDisconnected(userID, accountID, providerID string, at time.Time) Event {
	g.drafts = g.drafts[:0]
	d := g.emit(smile.AccountDisconnected, norm(at))
	d.userID, d.accountID, d.provider = userID, accountID, providerID
	return g.renderNew()[0]
}

// AccountSyncFlow returns what a Continuous Data Sync refresh of a connected
// account sends when it runs at `at`: a few seconds later, some *_UPDATED events
// covering since to the day of `at`, then ACCOUNT_SYNC_TASK_FINISHED listing the
// provider's standard datapoints. Now and then the refresh fails instead and asks
// the user to re-authorise (status FAILED, monitorStatus USER_ACTION_REQUIRED).
func (g *Generator) AccountSyncFlow(userID, accountID, providerID string, since, at time.Time) []Event {
	g.drafts = g.drafts[:0]
	g.syncFlow(userID, accountID, providerID, g.provider(providerID).Datapoints, norm(since), norm(at))
	return g.renderNew()
}

// ArchiveFlow returns what Smile sends for an uploaded archive: ARCHIVE_STARTED at
// `at`, then ARCHIVE_ANALYZED, or ARCHIVE_FAILED when errorCode is not empty (see
// ArchiveErrorCodes).
func (g *Generator) ArchiveFlow(userID, archiveID, errorCode string, at time.Time) []Event {
	g.drafts = g.drafts[:0]
	g.archiveFlow(userID, archiveID, errorCode, norm(at))
	return g.renderNew()
}

// ArchiveRevoked returns the ARCHIVE_REVOKED event Smile sends when the user
// withdraws an archive.
func (g *Generator) ArchiveRevoked(userID, archiveID string, at time.Time) Event {
	g.drafts = g.drafts[:0]
	d := g.emit(smile.ArchiveRevoked, norm(at))
	d.userID, d.archiveID = userID, archiveID
	return g.renderNew()[0]
}

// norm makes a time what Smile sends: UTC, whole seconds.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// midnight returns the start of t's day in UTC.
func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// accountDraft emits an event of an account type with the account fields set.
func (g *Generator) accountDraft(typ smile.EventType, at time.Time, userID, accountID, providerID string) *draft {
	d := g.emit(typ, at)
	d.userID, d.accountID, d.provider = userID, accountID, providerID
	return d
}

// connectedFlow emits a successful link and returns the datapoints delivered,
// when the account connected and the time of the last event.
func (g *Generator) connectedFlow(userID, accountID string, p Provider, login string, at time.Time) (dps []string, connectedAt, end time.Time) {
	g.accountDraft(smile.AccountCreated, at, userID, accountID, p.ID)
	t := at.Add(g.seconds(8, 45)) // credentials typed, maybe a one-time code
	g.accountDraft(smile.AccountConnected, t, userID, accountID, p.ID).loginName = login
	connectedAt = t
	t = t.Add(g.seconds(1, 3))
	g.taskDraft(smile.TaskStarted, t, userID, accountID, p.ID)

	dps = append(dps, p.Datapoints...)
	for _, o := range p.Optional {
		if g.chance(0.35) {
			dps = append(dps, o)
		}
	}
	dps = sortDatapoints(dps)
	t = t.Add(g.seconds(5, 30)) // the provider is scraped
	for _, name := range dps {
		spec, _ := datapointFor(name)
		d := g.accountDraft(spec.added, t, userID, accountID, p.ID)
		if spec.idField != "" {
			d.itemField, d.itemID = spec.idField, g.hexID(spec.idPrefix)
		} else {
			d.count = g.between(spec.min, spec.max)
		}
		t = t.Add(g.seconds(1, 4))
	}
	d := g.taskDraft(smile.TaskFinished, t, userID, accountID, p.ID)
	d.status, d.datapoints = statusSucceeded, dps
	return dps, connectedAt, t
}

// taskDraft emits a task event whose source is an account.
func (g *Generator) taskDraft(typ smile.EventType, at time.Time, userID, accountID, providerID string) *draft {
	d := g.emit(typ, at)
	d.userID, d.provider = userID, providerID
	d.sourceID, d.sourceType, d.taskType = accountID, sourceAccount, taskLinkAccount
	return d
}

// failedFlow emits a failed linking attempt and returns the time of its last event.
func (g *Generator) failedFlow(userID, accountID, providerID, login, code string, at time.Time) time.Time {
	g.accountDraft(smile.AccountCreated, at, userID, accountID, providerID)
	wait := g.seconds(6, 60)
	if code == "MFA_TIMEOUT" {
		wait = g.seconds(120, 300) // the one-time code window runs out
	}
	d := g.accountDraft(smile.AccountFailed, at.Add(wait), userID, accountID, providerID)
	d.loginName, d.errorCode, d.errMsg = login, code, AccountErrorMessage(code)
	return at.Add(wait)
}

func (g *Generator) accountErrorCode() string {
	return AccountErrorCodes()[g.weighted(g.weights)]
}

// syncFlow emits one monthly refresh at `at` covering since to at's day. It
// returns the time of its last event and whether the refresh succeeded.
func (g *Generator) syncFlow(userID, accountID, providerID string, dps []string, since, at time.Time) (time.Time, bool) {
	t := at.Add(g.seconds(3, 6))
	if g.chance(0.07) {
		d := g.emit(smile.AccountSyncTaskFinished, t)
		d.userID, d.provider, d.sourceID, d.sourceType = userID, providerID, accountID, sourceAccount
		d.status, d.monitorStatus = statusFailed, monitorActionNeeded
		return t, false
	}
	for _, name := range dps {
		spec, _ := datapointFor(name)
		if spec.updated == "" || !g.chance(0.4) {
			continue
		}
		d := g.accountDraft(spec.updated, t, userID, accountID, providerID)
		d.updatedAt, d.ranged = at, spec.ranged
		if spec.ranged {
			d.count, d.updatedFrom, d.updatedTo = g.between(1, 3), midnight(since), midnight(at)
		} else {
			for range g.between(1, 2) {
				d.updatedIDs = append(d.updatedIDs, g.hexID(spec.idPrefix))
			}
			d.count = len(d.updatedIDs)
		}
		t = t.Add(g.seconds(1, 2))
	}
	t = t.Add(g.seconds(1, 3))
	d := g.emit(smile.AccountSyncTaskFinished, t)
	d.userID, d.provider, d.sourceID, d.sourceType = userID, providerID, accountID, sourceAccount
	d.status, d.monitorStatus, d.datapoints = statusSucceeded, monitorActive, dps
	return t, true
}

// archiveFlow emits an archive's upload and analysis; it returns the time of the
// last event.
func (g *Generator) archiveFlow(userID, archiveID, code string, at time.Time) time.Time {
	d := g.emit(smile.ArchiveStarted, at)
	d.userID, d.archiveID = userID, archiveID
	t := at.Add(g.seconds(20, 150)) // OCR and classification
	if code == "" {
		d = g.emit(smile.ArchiveAnalyzed, t)
		d.userID, d.archiveID = userID, archiveID
		return t
	}
	d = g.emit(smile.ArchiveFailed, t)
	d.userID, d.archiveID, d.errorCode, d.errMsg = userID, archiveID, code, ArchiveErrorMessage(code)
	return t
}
