package ingest

import (
	"fmt"
	"smiledash/models"
)

// erasureStep deletes one table's rows about the erased user. where uses ?
// placeholders filled by args from the Smile user id and the user's key (0
// when the id has no user row, which matches nothing).
type erasureStep struct {
	table string
	where string
	args  func(id string, key int64) []any
}

// byKey and friends are the argument lists of the conditions below.
func byKey(_ string, key int64) []any            { return []any{key} }
func byKeyAndLinks(id string, key int64) []any   { return []any{key, key, id} }
func byKeyIDAndLinks(id string, key int64) []any { return []any{key, id, key, id} }
func byKeyAndID(id string, key int64) []any      { return []any{key, id} }

// userEvents selects the user's events (arguments: key, Smile id): by key,
// and by id those the projector has not resolved yet (models.UnresolvedOf),
// which is all a user without a row has.
const userEvents = "user_key = ? OR (" + models.UnresolvedOf + ")"

// userLinks selects the user's connect links (by key, or by the Smile user id
// a link was opened with before any event named the user).
const userLinks = "link_id IN (SELECT id FROM connect_links WHERE user_key = ? OR smile_user_id = ?)"

// erasureSteps lists, in order, every table holding rows about an end user.
// A table added to the schema that names users (a user_key column, a Smile
// user id, or text copied from their events) belongs here; the erasure test
// walks every table's text columns and fails until it is listed. Dependent
// rows go before what they refer to. contains is the dialect's substring test
// with %s for the column (instr / strpos).
// fullText is whether the dialect keeps search text apart from search_docs
// (SQLite's FTS4 table search_text; PostgreSQL keeps it in search_docs.words).
func erasureSteps(contains string, fullText bool) []erasureStep {
	var steps []erasureStep
	if fullText {
		// The search index's text goes first: its rows are found by their docs.
		steps = append(steps, erasureStep{"search_text", "docid IN (SELECT doc_id FROM search_docs WHERE " + userSearchDocs + ")", bySearchDocs})
	}
	return append(steps, []erasureStep{
		// The search index's documents of their events and callbacks, found
		// before those rows go.
		{"search_docs", userSearchDocs, bySearchDocs},
		// Reconciliation gaps between the widget's claims and their webhooks.
		{"gaps", "user_key = ?", byKey},
		// Delivery records of their events (Smile's retries) and rejected
		// attempts whose excerpt names them.
		{"deliveries", "event_id IN (SELECT event_id FROM events WHERE " + userEvents + ") OR " + fmt.Sprintf(contains, "excerpt"),
			func(id string, key int64) []any { return []any{key, id, id} }},
		// Parked events go with their events (ON DELETE CASCADE).
		{"events", userEvents, byKeyAndID},
		{"callbacks", "user_key = ? OR " + userLinks, byKeyAndLinks},
		{"actions", "user_key = ? OR " + userLinks, byKeyAndLinks},
		{"widget_sessions", "user_key = ? OR smile_user_id = ? OR " + userLinks, byKeyIDAndLinks},
		{"connect_links", "user_key = ? OR smile_user_id = ?", byKeyAndID},
		// Projections.
		{"data_availability", "user_key = ?", byKey},
		{"tasks", "user_key = ?", byKey},
		{"invites", "user_key = ?", byKey},
		{"archives", "user_key = ?", byKey},
		{"accounts", "user_key = ?", byKey},
	}...)
}

// userSearchDocs selects the search documents of the user's events and
// callbacks (a callback may name the user only by its connect link).
const userSearchDocs = "user_key = ? OR (kind = '" + models.SearchKindEvent + "' AND source_id IN (SELECT seq FROM events WHERE " + userEvents + ")) OR " +
	"(kind = '" + models.SearchKindCallback + "' AND source_id IN (SELECT id FROM callbacks WHERE user_key = ? OR " + userLinks + "))"

func bySearchDocs(id string, key int64) []any { return []any{key, key, id, key, key, id} }
