package views

import "time"

// Kinds of timeline item, as the models name them.
const (
	KindEvent    = "event"
	KindCallback = "callback"
	KindAction   = "action"
)

// TypeCountVM is the maintained count of one event type.
type TypeCountVM struct {
	Type string
	N    int64
	URL  string
}

// UsersFilterVM is the users search form.
type UsersFilterVM struct {
	Search, Status, Provider string
}

// UsersPageVM is /admin/users.
type UsersPageVM struct {
	LayoutVM
	Filter    UsersFilterVM
	Statuses  []string
	Providers []string
	Results   UsersResultsVM
}

// UsersResultsVM is the part of the users page a filter change replaces.
type UsersResultsVM struct {
	// Filter is the filter the results are for (the export links keep it).
	Filter   UsersFilterVM
	Total    string
	Filtered bool
	Rows     UserRowsVM
}

// UserRowsVM is a page of user rows and the link to the next ("load more").
type UserRowsVM struct {
	Now     time.Time
	Rows    []UserRowVM
	NextURL string
}

// UserRowVM is one user in the list.
type UserRowVM struct {
	ID, URL      string
	ExternalRefs []string
	LastSeen     time.Time
	Events       int64
	Accounts     []AccountBadgeVM
}

// AccountBadgeVM is an account summarised in the users list.
type AccountBadgeVM struct {
	Provider, Status, Login string
}

// UserPageVM is /admin/users/:id: the user, their accounts and the timeline.
type UserPageVM struct {
	LayoutVM
	Now          time.Time
	ID           string
	ExternalRefs []string
	CreatedAt    time.Time
	FirstSeen    time.Time
	LastSeen     time.Time
	Events       int64
	Session      string
	Accounts     []AccountVM
	Archives     []ArchiveVM
	Invites      []InviteVM
	Tasks        []TaskVM
	Timeline     TimelineVM
	// StreamURL is the live stream of this user's new timeline items.
	StreamURL string
	// Recon is the reconciliation section: lifecycles, gaps, Check with Smile.
	Recon UserReconVM
	// Pending says the projector has not created the user yet: the page
	// shows only their webhooks as received.
	Pending bool
}

// AccountVM is one account on the user page.
type AccountVM struct {
	ID, Provider, Status, Login string
	ErrorCode, ErrorWords       string // the code and its explanation in plain words
	ErrorMessage                string // Smile's own message, shown as sent
	Monitor                     string
	FirstSeen, LastSeen         time.Time
	Events                      int64
	TimelineURL                 string
	Data                        []DataVM
}

// DataVM is what an account made available of one datapoint.
type DataVM struct {
	Datapoint        string
	Added, Updated   int64
	Events           int64
	InTask           bool
	LastUpdated      time.Time
	FreshnessClass   string
	FreshnessRelText string
}

// ArchiveVM is an uploaded document set.
type ArchiveVM struct {
	ID, Status, ErrorCode, ErrorMessage string
	FirstSeen, LastSeen                 time.Time
}

// InviteVM is an invitation Smile sent.
type InviteVM struct {
	ID, Status          string
	InvitedAt, LinkedAt time.Time
}

// TaskVM is the latest run of a sync task.
type TaskVM struct {
	SourceID, TaskType, Status, ErrorCode, Datapoints string
	StartedAt, FinishedAt                             time.Time
	Runs                                              int64
}

// TimelineFilterVM is the timeline's account and kind filter.
type TimelineFilterVM struct {
	Account string
	Kind    string
	Time    TimeRangeVM
	// UIEach shows onUIEvent callbacks one by one instead of grouped.
	UIEach bool
}

// TimelineVM is a page of a user's timeline grouped by day.
type TimelineVM struct {
	// BaseURL is the user page, to which filters add query parameters.
	BaseURL  string
	Filter   TimelineFilterVM
	Accounts []string
	Days     []TimelineDayVM
	NextURL  string
	// From and To bound the items shown (zero: unbounded); live items outside
	// them are not added.
	From, To time.Time
}

// TimelineDayVM is the items of one UTC day.
type TimelineDayVM struct {
	Key, Label string
	Items      []TimelineItemVM
}

// TimelineItemVM is one webhook, browser claim or action.
type TimelineItemVM struct {
	Kind      string
	ID        int64
	At        time.Time
	Label     string
	AccountID string
	SourceIP  string
	// URL is the event's detail page, for webhooks.
	URL         string
	Actor       string
	SecretIndex int
	Deliveries  int64
	Raw         RawVM
}

// EventsFilterVM is the events filter form.
type EventsFilterVM struct {
	Type, Family, User, Account, Outcome string
	Time                                 TimeRangeVM
}

// EventsPageVM is /admin/events.
type EventsPageVM struct {
	LayoutVM
	Filter EventsFilterVM
	Types  []string
	// Families are the event families the family filter offers.
	Families []string
	Results  EventRowsVM
	// Live is set on the first, unfiltered-by-cursor page, where new events are
	// added as they arrive.
	Live bool
	// LiveURL fetches events newer than a seq with the same filters.
	LiveURL string
	// UnknownTypes are stored types Smile has not documented, offered in the
	// type filter after the known ones.
	UnknownTypes []string
}

// EventRowsVM is a page of event rows.
type EventRowsVM struct {
	Now       time.Time
	Rows      []EventRowVM
	NextURL   string
	ScannedTo int64
	// Gap is set when a live refresh found more new rows than a page holds.
	Gap *EventGapVM
}

// EventRowVM is one event in a list.
type EventRowVM struct {
	Seq             int64
	URL             string
	EventID, Type   string
	CreatedAt       time.Time
	ReceivedAt      time.Time
	UserID, UserURL string
	AccountID       string
	SourceIP        string
	SecretIndex     int
	Deliveries      int64
	// Unknown marks a type Smile has not documented (Smile adds types).
	Unknown bool
}

// EventPageVM is /admin/events/:id.
type EventPageVM struct {
	LayoutVM
	Now         time.Time
	Seq         int64
	EventID     string
	Type        string
	CreatedAt   time.Time
	ReceivedAt  time.Time
	UserID      string
	UserURL     string
	AccountID   string
	SourceIP    string
	SecretLabel string
	Deliveries  int64
	Body        RawVM
	// Retained is set when retention replaced the raw body (erase.templ).
	Retained  *RetainedVM
	Attempts  []DeliveryVM
	Changes   []FieldChangeVM
	Replayed  int
	Truncated bool
	// Unresolved says the event's user is not created yet, so its changes
	// cannot be replayed.
	Unresolved bool
	// ReprojectURL is where the re-project form posts; "" hides it (viewers).
	ReprojectURL string
	Notice       string
	// Flags are what was odd about the event, in plain words.
	Flags []FlagVM
	// RecordsURL shows the record or verification a RECORD_* or
	// VERIFICATION_* event concerns; "" for other events.
	RecordsURL string
	// Unprojected says the projector has not reached the event yet;
	// ParkedError, that it could not project it, and why.
	Unprojected bool
	ParkedError string
}

// FieldChangeVM is one projected value an event changed.
type FieldChangeVM struct {
	Table, Key, Field, Before, After string
	NewRow                           bool
}

// DeliveriesFilterVM is the deliveries filter form.
type DeliveriesFilterVM struct {
	Outcome, Reason string
}

// DeliveriesPageVM is /admin/deliveries.
type DeliveriesPageVM struct {
	LayoutVM
	Filter  DeliveriesFilterVM
	Reasons []string
	Results DeliveryRowsVM
}

// DeliveryRowsVM is a page of delivery rows.
type DeliveryRowsVM struct {
	Rows    []DeliveryVM
	NextURL string
}

// DeliveryVM is one delivery attempt that was not a first stored delivery.
type DeliveryVM struct {
	ID         int64
	ReceivedAt time.Time
	SourceIP   string
	Outcome    string
	Reason     string
	// ReasonWords explains the reason to a person.
	ReasonWords string
	Status      int
	EventID     string
	EventType   string
	BodyBytes   int
	Excerpt     string
}

// GroupByDay groups timeline items, already newest first, by UTC day.
func GroupByDay(items []TimelineItemVM) []TimelineDayVM {
	var days []TimelineDayVM
	for _, it := range items {
		key := DayKey(it.At)
		if len(days) == 0 || days[len(days)-1].Key != key {
			days = append(days, TimelineDayVM{Key: key, Label: DayText(it.At)})
		}
		days[len(days)-1].Items = append(days[len(days)-1].Items, it)
	}
	return days
}
