package ingest

import (
	"cmp"
	"strings"

	"smiledash/models"
	"smiledash/smile"
)

// ProjectedEvent is what the projections read of a stored event.
type ProjectedEvent struct {
	Seq     int64 // the event's place in the log; 0 before it is stored
	Stamp   models.Stamp
	Type    smile.EventType
	UserKey int64 // 0 when the event names no user
	Data    smile.EventData
	// Future marks an event dated more than a day after we received it: it is
	// counted but drives no state, or it would outrank every real event (and
	// pin an account's status) until its date passed.
	Future bool
}

type taskKey struct{ sourceID, taskType string }
type dataKey struct{ accountID, datapoint string }

// projection holds the rows a batch of events touches. apply is a pure function of
// the rows and the event: every value is either last-writer-wins by models.Stamp, a
// minimum or maximum, or a sum, so applying a set of events in any order, or
// rebuilding from the whole log, gives the same rows.
type projection struct {
	users         map[int64]*models.SmileUser
	accounts      map[string]*models.Account
	archives      map[string]*models.Archive
	invites       map[string]*models.Invite
	tasks         map[taskKey]*models.Task
	data          map[dataKey]*models.DataAvailability
	records       map[string]*models.Record
	verifications map[string]*models.Verification
	counts        map[string]int64 // stored events per type, added by this batch
	// hourly is the overview's counters added by this batch (insight-overview
	// hook; see queries_overview.go).
	hourly map[models.HourKey]int64
}

func newProjection() *projection {
	return &projection{
		users:         map[int64]*models.SmileUser{},
		accounts:      map[string]*models.Account{},
		archives:      map[string]*models.Archive{},
		invites:       map[string]*models.Invite{},
		tasks:         map[taskKey]*models.Task{},
		data:          map[dataKey]*models.DataAvailability{},
		records:       map[string]*models.Record{},
		verifications: map[string]*models.Verification{},
		counts:        map[string]int64{},
	}
}

// apply folds one newly stored event into the rows. Rows it needs must already be
// loaded (or known absent); missing rows are created.
func (p *projection) apply(ev ProjectedEvent) {
	p.counts[string(ev.Type)]++
	defer p.countHour(ev) // insight-overview hook: after the account row, for its provider
	if ev.Future {
		return
	}
	if ev.UserKey != 0 {
		p.applyUser(ev)
		if id := ev.Data.Account(); id != "" {
			p.applyAccount(ev, id)
		}
	}
	switch ev.Type {
	case smile.ArchiveStarted, smile.ArchiveAnalyzed, smile.ArchiveRevoked, smile.ArchiveFailed:
		p.applyArchive(ev)
	case smile.InviteInvited, smile.InviteLinked:
		p.applyInvite(ev)
	case smile.TaskStarted, smile.TaskFinished, smile.AccountSyncTaskFinished:
		p.applyTask(ev)
	case smile.RecordCreated, smile.RecordCompleted:
		p.applyRecord(ev)
	case smile.VerificationStarted, smile.VerificationCompleted:
		p.applyVerification(ev)
	}
	p.applyData(ev)
}

func (p *projection) applyUser(ev ProjectedEvent) {
	u, ok := p.users[ev.UserKey]
	if !ok {
		// The writer creates the row before projecting; this is a safety net for tests.
		u = &models.SmileUser{UserKey: ev.UserKey, ID: ev.Data.Subject()}
		p.users[ev.UserKey] = u
	}
	u.EventCount++
	u.FirstSeenAt = minTime(u.FirstSeenAt, ev.Stamp.At)
	u.LastSeenAt = maxTime(u.LastSeenAt, ev.Stamp.At)
	if ev.Type == smile.UserCreated {
		u.SmileCreatedAt = minTime(u.SmileCreatedAt, ev.Stamp.At)
	}
	if s := ev.Data.Session; s != nil && ev.Stamp.After(stampOf(u.SessionAt, u.SessionRank, u.SessionEventID)) {
		u.SessionStatus, u.SessionChannel = s.Status, s.Channel
		u.SessionAt, u.SessionRank, u.SessionEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

func (p *projection) applyAccount(ev ProjectedEvent, id string) {
	a, ok := p.accounts[id]
	if !ok {
		a = &models.Account{ID: id, UserKey: ev.UserKey, FirstSeenAt: ev.Stamp.At, LastSeenAt: ev.Stamp.At}
		p.accounts[id] = a
	}
	a.EventCount++
	if ev.Stamp.At.Before(a.FirstSeenAt) {
		a.FirstSeenAt = ev.Stamp.At
	}
	if ev.Stamp.At.After(a.LastSeenAt) {
		a.LastSeenAt = ev.Stamp.At
	}
	d := ev.Data
	if prov := d.Provider(); prov != "" && ev.Stamp.Unranked().After(stampOf(a.ProviderAt, 0, a.ProviderEventID)) {
		a.ProviderID, a.ProviderAt, a.ProviderEventID = prov, timePtr(ev.Stamp.At), ev.Stamp.EventID
	}
	if d.LoginName != nil && *d.LoginName != "" && ev.Stamp.Unranked().After(stampOf(a.LoginAt, 0, a.LoginEventID)) {
		a.LoginName, a.LoginAt, a.LoginEventID = *d.LoginName, timePtr(ev.Stamp.At), ev.Stamp.EventID
	}
	if status, ok := models.AccountStatusOf[ev.Type]; ok && ev.Stamp.After(stampOf(a.StatusAt, a.StatusRank, a.StatusEventID)) {
		a.Status, a.ErrorCode, a.ErrorMessage = status, "", ""
		if ev.Type == smile.AccountFailed {
			a.ErrorCode, a.ErrorMessage = deref(d.ErrorCode), deref(d.ErrorMsg)
		}
		a.StatusAt, a.StatusRank, a.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
	if ev.Type == smile.AccountSyncTaskFinished && d.MonitorStatus != "" &&
		ev.Stamp.Unranked().After(stampOf(a.MonitorAt, 0, a.MonitorEventID)) {
		a.MonitorStatus, a.MonitorAt, a.MonitorEventID = d.MonitorStatus, timePtr(ev.Stamp.At), ev.Stamp.EventID
	}
}

func (p *projection) applyArchive(ev ProjectedEvent) {
	d := ev.Data
	if d.ArchiveID == "" || ev.UserKey == 0 {
		return
	}
	a, ok := p.archives[d.ArchiveID]
	if !ok {
		a = &models.Archive{ID: d.ArchiveID, UserKey: ev.UserKey, FirstSeenAt: ev.Stamp.At, LastSeenAt: ev.Stamp.At}
		p.archives[d.ArchiveID] = a
	}
	if ev.Stamp.At.Before(a.FirstSeenAt) {
		a.FirstSeenAt = ev.Stamp.At
	}
	if ev.Stamp.At.After(a.LastSeenAt) {
		a.LastSeenAt = ev.Stamp.At
	}
	if ev.Stamp.After(stampOf(a.StatusAt, a.StatusRank, a.StatusEventID)) {
		a.Status = models.ArchiveStatusOf[ev.Type]
		a.ErrorCode, a.ErrorMessage = "", ""
		if ev.Type == smile.ArchiveFailed {
			a.ErrorCode, a.ErrorMessage = deref(d.ErrorCode), deref(d.ErrorMsg)
		}
		a.StatusAt, a.StatusRank, a.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

func (p *projection) applyInvite(ev ProjectedEvent) {
	d := ev.Data
	if d.InviteID == "" || ev.UserKey == 0 {
		return
	}
	inv, ok := p.invites[d.InviteID]
	if !ok {
		inv = &models.Invite{ID: d.InviteID, UserKey: ev.UserKey}
		p.invites[d.InviteID] = inv
	}
	if ev.Type == smile.InviteInvited {
		inv.InvitedAt = minTime(inv.InvitedAt, ev.Stamp.At)
	} else {
		inv.LinkedAt = minTime(inv.LinkedAt, ev.Stamp.At)
	}
	if ev.Stamp.After(stampOf(inv.StatusAt, inv.StatusRank, inv.StatusEventID)) {
		inv.Status = strings.TrimPrefix(string(ev.Type), "INVITE_")
		inv.StatusAt, inv.StatusRank, inv.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

// TaskRunning is a task's status between TASK_STARTED and its end (Smile's
// SUCCEEDED or FAILED).
const TaskRunning = "STARTED"

// taskKeyOf is the task row an event concerns: its source and Smile TaskType.
// ACCOUNT_SYNC_TASK_FINISHED names no type; it ends an UPDATE_ACCOUNT task.
func taskKeyOf(ev ProjectedEvent) taskKey {
	key := taskKey{ev.Data.SourceID, ev.Data.TaskType}
	if ev.Type == smile.AccountSyncTaskFinished && key.taskType == "" {
		key.taskType = models.TaskTypeUpdateAccount
	}
	return key
}

func (p *projection) applyTask(ev ProjectedEvent) {
	d := ev.Data
	if d.SourceID == "" || ev.UserKey == 0 {
		return
	}
	key := taskKeyOf(ev)
	t, ok := p.tasks[key]
	if !ok {
		t = &models.Task{SourceID: key.sourceID, TaskType: key.taskType, UserKey: ev.UserKey}
		p.tasks[key] = t
	}
	if d.SourceType != "" {
		t.SourceType = d.SourceType
	}
	status := d.Status
	switch ev.Type {
	case smile.TaskStarted:
		t.Runs++
		t.StartedAt = maxTime(t.StartedAt, ev.Stamp.At)
		status = TaskRunning
	case smile.AccountSyncTaskFinished:
		t.Runs++ // a sync announces only its end
		t.FinishedAt = maxTime(t.FinishedAt, ev.Stamp.At)
	default:
		t.FinishedAt = maxTime(t.FinishedAt, ev.Stamp.At)
	}
	if ev.Stamp.After(stampOf(t.StatusAt, t.StatusRank, t.StatusEventID)) {
		t.Status, t.ErrorCode = status, deref(d.ErrorCode)
		if ev.Type != smile.TaskStarted {
			t.Datapoints = strings.Join(d.TaskDatapoints(), ",")
		}
		t.StatusAt, t.StatusRank, t.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

func (p *projection) applyRecord(ev ProjectedEvent) {
	d := ev.Data
	if d.RecordID == "" {
		return
	}
	r, ok := p.records[d.RecordID]
	if !ok {
		r = &models.Record{ID: d.RecordID, FirstSeenAt: ev.Stamp.At}
		p.records[d.RecordID] = r
	}
	if ev.Stamp.At.Before(r.FirstSeenAt) {
		r.FirstSeenAt = ev.Stamp.At
	}
	if ev.Stamp.After(stampOf(r.StatusAt, r.StatusRank, r.StatusEventID)) {
		r.RecordType = d.RecordType
		r.Status, r.ResultCode, r.ResultMessage = models.StatusProcessing, "", ""
		if ev.Type == smile.RecordCompleted {
			r.Status, r.ResultCode, r.ResultMessage = cmp.Or(d.Status, models.StatusCompleted), d.ResultCode, deref(d.ResultMessage)
		}
		r.StatusAt, r.StatusRank, r.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

func (p *projection) applyVerification(ev ProjectedEvent) {
	d := ev.Data
	if d.VerificationID == "" {
		return
	}
	v, ok := p.verifications[d.VerificationID]
	if !ok {
		v = &models.Verification{ID: d.VerificationID, FirstSeenAt: ev.Stamp.At}
		p.verifications[d.VerificationID] = v
	}
	if ev.Stamp.At.Before(v.FirstSeenAt) {
		v.FirstSeenAt = ev.Stamp.At
	}
	if ev.Stamp.After(stampOf(v.StatusAt, v.StatusRank, v.StatusEventID)) {
		v.Status = models.StatusProcessing
		if ev.Type == smile.VerificationCompleted {
			v.Status = models.StatusCompleted
		}
		v.ResultCode, v.ResultMessage = d.ResultCode, deref(d.ResultMessage)
		v.StatusAt, v.StatusRank, v.StatusEventID = timePtr(ev.Stamp.At), ev.Stamp.Rank, ev.Stamp.EventID
	}
}

// applyData counts what *_ADDED and *_UPDATED events make available, and marks the
// datapoints a successful task delivered.
func (p *projection) applyData(ev ProjectedEvent) {
	accountID := ev.Data.Account()
	if accountID == "" || ev.UserKey == 0 {
		return
	}
	if point, change := ev.Type.DataEvent(); change != smile.NoDataChange {
		row := p.dataRow(accountID, string(point), ev)
		n := int64(1) // IDENTITY, RATING, INSIGHT and LINK events name one item
		if ev.Data.Count != nil {
			n = int64(*ev.Data.Count)
		}
		if change == smile.DataAdded {
			row.ItemsAdded += n
		} else {
			row.ItemsUpdated += n
		}
		row.Events++
		return
	}
	if (ev.Type == smile.TaskFinished || ev.Type == smile.AccountSyncTaskFinished) && ev.Data.Status == "SUCCEEDED" {
		for _, name := range ev.Data.TaskDatapoints() {
			p.dataRow(accountID, string(smile.TaskDatapoint(name)), ev).InTask = true
		}
	}
}

func (p *projection) dataRow(accountID, point string, ev ProjectedEvent) *models.DataAvailability {
	key := dataKey{accountID, point}
	row, ok := p.data[key]
	if !ok {
		row = &models.DataAvailability{AccountID: accountID, Datapoint: point, UserKey: ev.UserKey, LastUpdatedAt: ev.Stamp.At}
		p.data[key] = row
	}
	if ev.Stamp.At.After(row.LastUpdatedAt) {
		row.LastUpdatedAt = ev.Stamp.At
	}
	return row
}

// newProjectedEvent is what the projections read of an event: its stamp (with
// its lifecycle rank), type, user and data. flags are those stored with the
// event; a future-dated event is counted but drives no state.
func newProjectedEvent(env smile.Envelope, userKey int64, flags string) ProjectedEvent {
	return ProjectedEvent{
		Stamp:   models.Stamp{At: env.CreatedAt, Rank: models.LifecycleRank(env.Type, env.Data), EventID: env.ID},
		Type:    env.Type,
		UserKey: userKey,
		Data:    env.Data,
		Future:  models.HasFlag(flags, smile.FlagCreatedAtFuture),
	}
}

// countHour adds ev to the batch's hourly counters. It runs after the event's
// account row is applied, so account events without a provider of their own
// are counted under the account's.
func (p *projection) countHour(ev ProjectedEvent) {
	provider := ""
	if id := ev.Data.Account(); id != "" {
		if a := p.accounts[id]; a != nil {
			provider = a.ProviderID
		}
		provider = cmp.Or(provider, ev.Data.Provider())
	}
	if p.hourly == nil {
		p.hourly = map[models.HourKey]int64{}
	}
	p.hourly[models.NewHourKey(ev.Type, ev.Stamp.At, deref(ev.Data.ErrorCode), provider)]++
}
