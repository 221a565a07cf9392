package ingest_test

import (
	"context"
	"fmt"
	"testing"

	"smiledash/models"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// lifecycleStep is one lifecycle event of an entity: the webhook, the status
// it sets, and its rank in Smile's lifecycle.
type lifecycleStep struct {
	typ    string
	data   string // %[1]s is the user, %[2]s the entity id
	status string
	rank   int
}

// lifecycle is an entity with a lifecycle and how to read its status.
type lifecycle struct {
	name   string
	steps  []lifecycleStep
	status string // SQL reading the status; ? is the user id for sessions, else the entity id
	byUser bool
}

var lifecycles = []lifecycle{
	{name: "account", status: "SELECT status FROM accounts WHERE id = ?", steps: []lifecycleStep{
		{"ACCOUNT_CREATED", `{"userId":%q,"accountId":%q,"providers":["p"]}`, "PENDING", 1},
		{"ACCOUNT_CONNECTED", `{"userId":%q,"accountId":%q,"providers":["p"],"loginName":"l"}`, "CONNECTED", 3},
		{"ACCOUNT_FAILED", `{"userId":%q,"accountId":%q,"providers":["p"],"errorCode":"MFA_TIMEOUT","errorMessage":"late"}`, "ERROR", 3},
		{"ACCOUNT_DISCONNECTED", `{"userId":%q,"accountId":%q,"providers":["p"]}`, "DISCONNECTED", 4},
	}},
	{name: "archive", status: "SELECT status FROM archives WHERE id = ?", steps: []lifecycleStep{
		{"ARCHIVE_STARTED", `{"userId":%q,"archiveId":%q}`, "STARTED", 1},
		{"ARCHIVE_ANALYZED", `{"userId":%q,"archiveId":%q}`, "ANALYZED", 2},
		{"ARCHIVE_FAILED", `{"userId":%q,"archiveId":%q,"errorCode":"SYSTEM_ERROR","errorMessage":"x"}`, "ERROR", 2},
		{"ARCHIVE_REVOKED", `{"userId":%q,"archiveId":%q}`, "REVOKED", 3},
	}},
	{name: "task", status: "SELECT status FROM tasks WHERE source_id = ? AND task_type = 'UPDATE_ACCOUNT'", steps: []lifecycleStep{
		{"TASK_STARTED", `{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"UPDATE_ACCOUNT","providers":["p"]}`, "STARTED", 1},
		{"TASK_FINISHED", `{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","taskType":"UPDATE_ACCOUNT","status":"SUCCEEDED","providers":["p"],"datapoints":["INCOMES"]}`, "SUCCEEDED", 2},
		{"ACCOUNT_SYNC_TASK_FINISHED", `{"userId":%q,"sourceId":%q,"sourceType":"ACCOUNT","status":"FAILED","monitorStatus":"USER_ACTION_REQUIRED","providers":["p"],"datapoints":[]}`, "FAILED", 2},
	}},
	{name: "invite", status: "SELECT status FROM invites WHERE id = ?", steps: []lifecycleStep{
		{"INVITE_INVITED", `{"userId":%q,"inviteId":%q}`, "INVITED", 1},
		{"INVITE_LINKED", `{"userId":%q,"inviteId":%q}`, "LINKED", 2},
	}},
	{name: "record", status: "SELECT status FROM records WHERE id = ?", steps: []lifecycleStep{
		{"RECORD_CREATED", `{"_":%q,"recordId":%q,"recordType":"SOCIAL_SECURITY"}`, "PROCESSING", 1},
		{"RECORD_COMPLETED", `{"_":%q,"recordId":%q,"recordType":"SOCIAL_SECURITY","status":"ERROR","resultCode":"NO_DATA"}`, "ERROR", 2},
	}},
	{name: "verification", status: "SELECT status FROM verifications WHERE id = ?", steps: []lifecycleStep{
		{"VERIFICATION_STARTED", `{"_":%q,"verificationId":%q}`, "PROCESSING", 1},
		{"VERIFICATION_COMPLETED", `{"_":%q,"verificationId":%q,"resultCode":"SUCCESS"}`, "COMPLETED", 2},
	}},
	{name: "session", byUser: true, status: "SELECT session_status FROM smile_users WHERE id = ?", steps: []lifecycleStep{
		{"USER_CREATED", `{"userId":%[1]q,"session":{"userId":%[1]q,"channel":"WinkSite","status":"IN_PROGRESS"},"_":%[2]q}`, "IN_PROGRESS", 1},
		{"USER_SESSION_COMPLETED", `{"session":{"userId":%[1]q,"channel":"WinkSite","status":"COMPLETED"},"_":%[2]q}`, "COMPLETED", 2},
		{"USER_SESSION_RESET", `{"session":{"userId":%[1]q,"channel":"WinkSite","status":"REVOKED"},"_":%[2]q}`, "REVOKED", 3},
	}},
}

// tieCase is two lifecycle events of one entity with equal createdAt.
type tieCase struct {
	name        string
	entity      string // id read back: the entity, or the user for sessions
	query       string
	bodies      [][]byte // in arrival order
	want        string
	first, then lifecycleStep
}

// tieCases builds every pair of lifecycle steps of every entity, in both
// arrival orders and both id orders, each pair on its own entity.
func tieCases() []tieCase {
	const at = "2026-05-01T08:00:00Z"
	var out []tieCase
	for _, lc := range lifecycles {
		for i, a := range lc.steps {
			for j, b := range lc.steps {
				if i == j {
					continue // (a, b) and (b, a) are the two arrival orders
				}
				for _, aIDFirst := range []bool{true, false} {
					n := len(out)
					user, entity := fmt.Sprintf("tie-user-%03d", n), fmt.Sprintf("%s-tie-%03d", lc.name, n)
					idA, idB := fmt.Sprintf("et-tie-%03d-1", n), fmt.Sprintf("et-tie-%03d-2", n)
					if !aIDFirst {
						idA, idB = idB, idA
					}
					body := func(id string, s lifecycleStep) []byte {
						return fmt.Appendf(nil, `{"id":%q,"version":1,"type":%q,"createdAt":%q,"data":%s}`,
							id, s.typ, at, fmt.Sprintf(s.data, user, entity))
					}
					// The winner: higher lifecycle rank, then higher event id.
					want := b.status
					if a.rank > b.rank || a.rank == b.rank && idA > idB {
						want = a.status
					}
					c := tieCase{name: fmt.Sprintf("%s/%s(%s) then %s(%s)", lc.name, a.typ, idA, b.typ, idB),
						entity: entity, query: lc.status, bodies: [][]byte{body(idA, a), body(idB, b)}, want: want, first: a, then: b}
					if lc.byUser {
						c.entity = user
					}
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// TestProjection_SameSecondTiesFollowSmilesLifecycle sends every pair of
// lifecycle events of one entity with equal createdAt, in both arrival orders
// and both id orders, and requires the state Smile's lifecycle implies (then
// the higher id), and that a rebuild from the log gives the same tables.
func TestProjection_SameSecondTiesFollowSmilesLifecycle(t *testing.T) {
	cases := tieCases()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		in := storetest.Writer(t, s)
		for _, c := range cases {
			for _, b := range c.bodies {
				if got := storetest.Submit(t, in, b); got != ingest.Stored {
					t.Fatalf("%s: got %v, want Stored", c.name, got)
				}
			}
		}
		check := func(stage string) {
			for _, c := range cases {
				var got string
				if err := s.DB().Raw(c.query, c.entity).Scan(&got).Error; err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if got != c.want {
					t.Errorf("%s, %s: got %s, want %s", stage, c.name, got, c.want)
				}
			}
		}
		check("incremental")
		before := storetest.DumpProjections(t, s)
		if _, err := ingest.New(s).Reproject(context.Background()); err != nil {
			t.Fatal(err)
		}
		check("rebuilt")
		if after := storetest.DumpProjections(t, s); before != after {
			t.Errorf("rebuilt projections differ from incremental ones:\n--- incremental\n%s\n--- rebuilt\n%s", before, after)
		}
	})
}
