package views

import "time"

// FlagVM is one flag stored with an event, with its explanation.
type FlagVM struct {
	Name, Words string
}

// RecordsPageVM is /admin/records: social-security records (RECORD_*) or
// identity verifications (VERIFICATION_*), which belong to no user.
type RecordsPageVM struct {
	LayoutVM
	// Kind is "records" or "verifications"; Tabs link to both.
	Kind    string
	ID      string // the one record shown, when filtered
	Tabs    []RecordsTabVM
	Results RecordRowsVM
}

// RecordsTabVM is a link to one kind of the records page.
type RecordsTabVM struct {
	Label, URL string
	Active     bool
}

// RecordRowsVM is a page of record rows and the link to the next.
type RecordRowsVM struct {
	Now     time.Time
	Rows    []RecordRowVM
	NextURL string
}

// RecordRowVM is one record or verification.
type RecordRowVM struct {
	ID, RecordType, Status string
	ResultCode             string
	ResultMessage          string
	FirstSeen, StatusAt    time.Time
	// EventsURL lists the webhooks of this kind (records carry no user to filter on).
	EventsURL string
}
