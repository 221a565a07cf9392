package simulate

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"smiledash/smile"
)

// timeLayout is Smile's createdAt format: UTC, second precision, a literal Z.
const timeLayout = "2006-01-02T15:04:05Z"

// Event is one webhook ready to send.
type Event struct {
	// ID is the envelope id, `et-` and 32 hex digits.
	ID string
	// Type is the envelope type.
	Type smile.EventType
	// CreatedAt is the envelope createdAt (UTC, whole seconds). Flows start at the
	// time they are given, so a caller may send each event when its time comes.
	CreatedAt time.Time
	// Body is the exact compact JSON to send and sign. Do not modify it.
	Body []byte
}

// Redated returns a copy of e dated at (UTC, whole seconds), its body re-encoded
// with that createdAt and nothing else changed. The sandbox builds a flow ahead
// and dates each webhook when it sends it, as Smile stamps an event when it
// happens, so no webhook is ever dated after the wall clock.
func (e Event) Redated(at time.Time) Event {
	at = norm(at)
	const key = `,"createdAt":"`
	i := bytes.Index(e.Body, []byte(key))
	if i < 0 || i+len(key)+len(timeLayout) > len(e.Body) {
		return e // not a body this package built; leave it as it is
	}
	start, end := i+len(key), i+len(key)+len(timeLayout)
	body := make([]byte, 0, len(e.Body))
	body = append(body, e.Body[:start]...)
	body = at.AppendFormat(body, timeLayout)
	body = append(body, e.Body[end:]...)
	e.Body, e.CreatedAt = body, at
	return e
}

// draft holds one event's fields until the user's events are sorted and encoded.
// Each type uses the fields its schema names; the rest stay empty.
type draft struct {
	typ smile.EventType
	at  time.Time
	id  string

	userID, accountID, provider  string
	loginName, errorCode, errMsg string

	// itemField and itemID carry the single-item id of IDENTITY_ADDED
	// (identityId), RATING_ADDED (ratingId), INSIGHT_ADDED and LINK_ADDED (id).
	itemField, itemID string
	count             int
	archiveID         string
	inviteID          string

	sourceID, sourceType, taskType string
	status, monitorStatus          string
	datapoints                     []string

	updatedIDs                        []string
	ranged                            bool // updatedFrom/updatedTo instead of updatedIds
	updatedFrom, updatedTo, updatedAt time.Time
}

// appendJSON appends the compact body in the field order of Smile's samples.
func (d *draft) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, d.id)
	b = append(b, `,"version":1,"type":`...)
	b = appendString(b, string(d.typ))
	b = append(b, `,"createdAt":`...)
	b = appendTime(b, d.at)
	b = append(b, `,"data":{"userId":`...)
	b = appendString(b, d.userID)
	switch d.typ {
	case smile.UserCreated:
	case smile.AccountCreated, smile.AccountDisconnected:
		b = d.appendAccount(b)
		b = d.appendProviders(b)
	case smile.AccountConnected:
		b = d.appendAccount(b)
		b = appendField(b, "loginName", d.loginName)
		b = d.appendProviders(b)
	case smile.AccountFailed:
		b = d.appendAccount(b)
		b = appendField(b, "loginName", d.loginName)
		b = appendField(b, "errorCode", d.errorCode)
		b = appendField(b, "errorMessage", d.errMsg)
		b = d.appendProviders(b)
	case smile.TaskStarted, smile.TaskFinished, smile.AccountSyncTaskFinished:
		b = d.appendTask(b)
	case smile.ArchiveStarted, smile.ArchiveAnalyzed, smile.ArchiveRevoked:
		b = appendField(b, "archiveId", d.archiveID)
	case smile.ArchiveFailed:
		b = appendField(b, "archiveId", d.archiveID)
		b = appendField(b, "errorCode", d.errorCode)
		b = appendField(b, "errorMessage", d.errMsg)
	case smile.InviteInvited, smile.InviteLinked:
		b = appendField(b, "inviteId", d.inviteID)
	default:
		b = d.appendData(b)
	}
	return append(b, "}}"...)
}

// appendData writes the fields of the *_ADDED and *_UPDATED types.
func (d *draft) appendData(b []byte) []byte {
	b = d.appendAccount(b)
	if _, change := d.typ.DataEvent(); change == smile.DataUpdated {
		b = d.appendProviders(b)
		if !d.ranged {
			b = appendList(b, "updatedIds", d.updatedIDs)
		}
		b = appendInt(b, "count", d.count)
		if d.ranged {
			b = appendTimeField(b, "updatedFrom", d.updatedFrom)
			b = appendTimeField(b, "updatedTo", d.updatedTo)
		}
		return appendTimeField(b, "updatedAt", d.updatedAt)
	}
	if d.itemField != "" {
		b = appendField(b, d.itemField, d.itemID)
	} else {
		b = appendInt(b, "count", d.count)
	}
	return d.appendProviders(b)
}

// appendTask writes TASK_STARTED, TASK_FINISHED and ACCOUNT_SYNC_TASK_FINISHED data.
func (d *draft) appendTask(b []byte) []byte {
	b = appendField(b, "sourceId", d.sourceID)
	b = appendField(b, "sourceType", d.sourceType)
	if d.typ != smile.AccountSyncTaskFinished {
		b = appendField(b, "taskType", d.taskType)
	}
	if d.typ == smile.TaskStarted {
		return d.appendProviders(b)
	}
	if d.typ == smile.TaskFinished {
		b = appendField(b, "status", d.status)
		if d.errorCode == "" {
			b = append(b, `,"errorCode":null`...)
		} else {
			b = appendField(b, "errorCode", d.errorCode)
		}
		b = d.appendProviders(b)
	} else {
		b = d.appendProviders(b)
		b = appendField(b, "status", d.status)
		b = appendField(b, "monitorStatus", d.monitorStatus)
	}
	return appendList(b, "datapoints", d.datapoints)
}

func (d *draft) appendAccount(b []byte) []byte { return appendField(b, "accountId", d.accountID) }

func (d *draft) appendProviders(b []byte) []byte {
	b = append(b, `,"providers":[`...)
	b = appendString(b, d.provider)
	return append(b, ']')
}

// appendField appends `,"key":"value"`; key must need no escaping.
func appendField(b []byte, key, value string) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return appendString(b, value)
}

func appendInt(b []byte, key string, n int) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, int64(n), 10)
}

func appendList(b []byte, key string, values []string) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func appendTimeField(b []byte, key string, t time.Time) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return appendTime(b, t)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"')
}

// appendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped, and invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
