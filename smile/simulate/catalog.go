package simulate

import (
	"slices"

	"smiledash/smile"
)

// The TASK datapoint names of smile-api.md §2.7 (RefDatapoint in the spec), in the
// order Smile's samples list them.
const (
	dpIdentities    = "IDENTITIES"
	dpRatings       = "RATINGS"
	dpTransactions  = "TRANSACTIONS"
	dpDocuments     = "DOCUMENTS"
	dpEmployments   = "EMPLOYMENTS"
	dpIncomes       = "INCOMES"
	dpContributions = "CONTRIBUTIONS"
	dpEincomes      = "EINCOMES"
	dpLiabilities   = "LIABILITIES"
	dpInsights      = "INSIGHTS"
	dpLink          = "LINK"
)

// Provider is a data source a simulated user can link.
type Provider struct {
	// ID is Smile's provider id, as sent in `providers`.
	ID string
	// Datapoints are delivered by every account that connects, as TASK datapoint names.
	Datapoints []string
	// Optional datapoints are delivered by some accounts only (a member with a
	// loan, enough history for insights).
	Optional []string
	// Monitored reports Continuous Data Sync support: connected accounts are
	// refreshed monthly and each refresh sends ACCOUNT_SYNC_TASK_FINISHED.
	Monitored bool
}

// Providers returns the catalogue the generator picks from: Philippine,
// Indonesian and Singaporean government sources (monitored, as Smile's CDS covers
// them), a payroll and two gig platforms. The slice is new on every call.
func Providers() []Provider {
	return []Provider{
		{ID: "sss_ph", Datapoints: []string{dpIdentities, dpEmployments, dpContributions},
			Optional: []string{dpLiabilities, dpInsights}, Monitored: true},
		{ID: "philhealth_ph", Datapoints: []string{dpIdentities, dpContributions},
			Optional: []string{dpEmployments}, Monitored: true},
		{ID: "pagibig_ph", Datapoints: []string{dpIdentities, dpContributions},
			Optional: []string{dpEmployments, dpLiabilities}, Monitored: true},
		{ID: "bpjs_id", Datapoints: []string{dpIdentities, dpEmployments, dpContributions},
			Optional: []string{dpDocuments}, Monitored: true},
		{ID: "cpf_sg", Datapoints: []string{dpIdentities, dpEmployments, dpContributions},
			Optional: []string{dpIncomes, dpInsights}, Monitored: true},
		{ID: "examplepayroll_ph", Datapoints: []string{dpIdentities, dpEmployments, dpIncomes},
			Optional: []string{dpDocuments, dpEincomes, dpInsights}, Monitored: true},
		{ID: "grab_driver_ph", Datapoints: []string{dpIdentities, dpRatings, dpTransactions, dpIncomes},
			Optional: []string{dpEincomes, dpInsights, dpLink}},
		{ID: "upwork", Datapoints: []string{dpIdentities, dpRatings, dpEmployments, dpTransactions},
			Optional: []string{dpIncomes, dpLink}},
	}
}

// defaultProvider describes a provider missing from the catalogue, so the flows
// accept any provider id the sandbox shows.
func defaultProvider(id string) Provider {
	return Provider{ID: id, Datapoints: []string{dpIdentities, dpEmployments, dpIncomes}}
}

// datapointSpec says how a datapoint shows up in webhooks.
type datapointSpec struct {
	added   smile.EventType // the *_ADDED event the link task sends
	updated smile.EventType // the *_UPDATED event a sync sends, or ""
	// idField names the single-item id of the *_ADDED event; "" means it has a count.
	idField  string
	idPrefix string // prefix of item ids (identity, rating, ... or updatedIds)
	min, max int    // item count range of the *_ADDED event
	// ranged *_UPDATED events carry updatedFrom/updatedTo instead of updatedIds.
	ranged bool
	rank   int // position in the canonical order
}

// datapointFor describes a TASK datapoint name; ok is false for unknown names.
func datapointFor(name string) (spec datapointSpec, ok bool) {
	switch name {
	case dpIdentities:
		return datapointSpec{added: smile.IdentityAdded, idField: "identityId", idPrefix: "i-", rank: 0}, true
	case dpRatings:
		return datapointSpec{added: smile.RatingAdded, idField: "ratingId", idPrefix: "r-", rank: 1}, true
	case dpTransactions:
		return datapointSpec{added: smile.TransactionsAdded, idPrefix: "t-", min: 5, max: 250, rank: 2}, true
	case dpDocuments:
		return datapointSpec{added: smile.DocumentsAdded, updated: smile.DocumentsUpdated,
			idPrefix: "d-", min: 1, max: 4, rank: 3}, true
	case dpEmployments:
		return datapointSpec{added: smile.EmploymentsAdded, updated: smile.EmploymentsUpdated,
			idPrefix: "e-", min: 1, max: 6, rank: 4}, true
	case dpIncomes:
		return datapointSpec{added: smile.IncomesAdded, updated: smile.IncomesUpdated,
			idPrefix: "inc-", min: 1, max: 36, ranged: true, rank: 5}, true
	case dpContributions:
		return datapointSpec{added: smile.ContributionsAdded, updated: smile.ContributionsUpdated,
			idPrefix: "con-", min: 6, max: 180, ranged: true, rank: 6}, true
	case dpEincomes:
		return datapointSpec{added: smile.EincomesAdded, updated: smile.EincomesUpdated,
			idPrefix: "einc-", min: 1, max: 12, ranged: true, rank: 7}, true
	case dpLiabilities:
		return datapointSpec{added: smile.LiabilitiesAdded, updated: smile.LiabilitiesUpdated,
			idPrefix: "lia-", min: 1, max: 3, rank: 8}, true
	case dpInsights:
		return datapointSpec{added: smile.InsightAdded, idField: "id", idPrefix: "insight-", rank: 9}, true
	case dpLink:
		return datapointSpec{added: smile.LinkAdded, idField: "id", idPrefix: "link-", rank: 10}, true
	}
	return datapointSpec{}, false
}

// sortDatapoints puts TASK datapoint names in canonical order and drops unknown
// names and repeats.
func sortDatapoints(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if _, ok := datapointFor(n); ok && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		sa, _ := datapointFor(a)
		sb, _ := datapointFor(b)
		return sa.rank - sb.rank
	})
	return out
}

// AccountErrorCodes lists the codes the generator uses in ACCOUNT_FAILED, from
// the complete list of smile-api.md §5.3, most frequent first.
func AccountErrorCodes() []string {
	return []string{
		"INVALID_CREDENTIALS", "MFA_TIMEOUT", "INVALID_MFA", "SERVICE_UNAVAILABLE",
		"ACCOUNT_LOCKED", "EXPIRED_CREDENTIALS", "TOS_REQUIRED", "ACCOUNT_INACCESSIBLE",
		"SYSTEM_ERROR",
	}
}

// accountErrorWeights are the relative frequencies of AccountErrorCodes.
func accountErrorWeights() []int { return []int{40, 15, 10, 10, 8, 6, 5, 4, 2} }

// AccountErrorMessage returns the errorMessage Smile sends with an account error
// code, or a generic message for a code it does not know.
func AccountErrorMessage(code string) string {
	switch code {
	case "ACCOUNT_DISABLED":
		return "The account is disabled at the provider"
	case "ACCOUNT_INACCESSIBLE":
		return "The account cannot be accessed at the provider"
	case "ACCOUNT_INCOMPLETE":
		return "The account is incomplete at the provider"
	case "ACCOUNT_LOCKED":
		return "The account is locked after too many attempts"
	case "AUTH_REQUIRED":
		return "No credentials were provided"
	case "EXPIRED_CREDENTIALS":
		return "The password has expired and must be changed at the provider"
	case "INVALID_ACCOUNT_TYPE":
		return "This is not a valid account type for the provider"
	case "INVALID_AUTH":
		return "Authentication failed, please contact support"
	case "INVALID_CREDENTIALS":
		return "Incorrect username or password"
	case "INVALID_MFA":
		return "The one-time code entered is invalid"
	case "MFA_TIMEOUT":
		return "One-time code was not entered in time"
	case "SERVICE_UNAVAILABLE":
		return "The provider is currently unavailable, please try again later"
	case "SYSTEM_ERROR":
		return "An unexpected error occurred, please contact support"
	case "TOS_REQUIRED":
		return "The provider's terms of service must be accepted first"
	case "UNSUPPORTED_AUTH_TYPE":
		return "This authentication type is not supported"
	case "UNSUPPORTED_MFA_METHOD":
		return "This verification method is not supported"
	}
	return "The account could not be connected"
}

// ArchiveErrorCodes lists the codes the generator uses in ARCHIVE_FAILED: the
// spec's archive error codes plus FILE_UNABLE_TO_RECOGNIZE from Smile's webhook
// sample (smile-api.md §8 item 18).
func ArchiveErrorCodes() []string {
	return []string{"FILE_UNABLE_TO_RECOGNIZE", "INVALID_FIELD_FORMAT", "MISSING_MANDATORY_FIELD", "SYSTEM_ERROR"}
}

// ArchiveErrorMessage returns the errorMessage sent with an archive error code.
func ArchiveErrorMessage(code string) string {
	switch code {
	case "FILE_UNABLE_TO_RECOGNIZE":
		return "The uploaded file could not be recognized"
	case "INVALID_FIELD_FORMAT":
		return "Uploaded file could not be read"
	case "MISSING_MANDATORY_FIELD", "MISSING_MANDATARY_FIELD":
		return "A mandatory field is missing from the document"
	case "SYSTEM_ERROR":
		return "An unexpected error occurred while analyzing the archive"
	}
	return "The archive could not be analyzed"
}

// firstNames and lastNames make login names; they are functions, not variables,
// so the package holds no mutable state.
func firstNames() []string {
	return []string{"juan", "maria", "jose", "ana", "mark", "angelica", "ryan", "siti",
		"budi", "dewi", "weiling", "jun", "kristine", "paolo", "nurul", "agus", "mei", "carlo"}
}

func lastNames() []string {
	return []string{"delacruz", "santos", "reyes", "garcia", "mendoza", "bautista", "lestari",
		"wijaya", "santoso", "tan", "lim", "ng", "villanueva", "ramos", "aquino", "pratama"}
}
