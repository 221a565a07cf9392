package views

import "time"

// SearchFilterVM is the search form: the words and the filters, as typed.
type SearchFilterVM struct {
	Text, Kind, Type, User, Account, Provider, From, To string
}

// SearchPageVM is /admin/search.
type SearchPageVM struct {
	LayoutVM
	Filter SearchFilterVM
	Kinds  []string
	// Searched is set once there was something to search for.
	Searched bool
	// Behind is how far the search index is behind the log ("" when caught up).
	Behind  string
	Results SearchRowsVM
	// ExportCSV and ExportNDJSON download every hit of this search.
	ExportCSV, ExportNDJSON string
}

// SearchRowsVM is a page of hits.
type SearchRowsVM struct {
	Rows    []SearchRowVM
	NextURL string
}

// SearchRowVM is one matching event or callback.
type SearchRowVM struct {
	Kind, Type, URL   string
	At                time.Time
	UserID, UserURL   string
	AccountID         string
	Snippet           string
	IsBrowserCallback bool
}
