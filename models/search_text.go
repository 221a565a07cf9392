package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Both stores index the same words: the indexer splits a payload into words
// itself (searchWords) instead of leaving it to SQLite's tokenizer or
// PostgreSQL's parser, whose rules differ (PostgreSQL's depend on the
// database's locale and would split Thai or Vietnamese names apart).

// Bounds on what one document contributes, so a 10 MiB TASK_FINISHED payload
// cannot produce a tsvector over PostgreSQL's 1 MB limit or slow the indexer.
const (
	maxDocWords = 4000
	maxWordLen  = 64 // longer runs are hashes or base64, not names
)

// isWordRune says which characters belong to words: letters, digits and the
// combining marks that scripts such as Thai write inside words.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// appendWords appends the lower-case words of s to words, up to maxDocWords.
func appendWords(words []string, s string) []string {
	for len(s) > 0 && len(words) < maxDocWords {
		i := strings.IndexFunc(s, isWordRune)
		if i < 0 {
			return words
		}
		s = s[i:]
		j := strings.IndexFunc(s, func(r rune) bool { return !isWordRune(r) })
		if j < 0 {
			j = len(s)
		}
		if w := s[:j]; len(w) <= maxWordLen {
			words = append(words, strings.ToLower(w))
		}
		s = s[j:]
	}
	return words
}

// searchWords returns the words of a JSON payload's string and number values,
// in document order (keys are left out: every event has "id" and "type").
// A body that is not JSON is split as plain text.
func searchWords(body []byte) []string {
	if !utf8.Valid(body) {
		body = []byte(strings.ToValidUTF8(string(body), " "))
	}
	if !json.Valid(body) {
		return appendWords(nil, string(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// inObject[i] says whether container i is an object; wantKey whether the
	// next string in the innermost object is a key.
	var inObject []bool
	wantKey := false
	var words []string
	for len(words) < maxDocWords {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{', '[':
				inObject = append(inObject, x == '{')
				wantKey = x == '{'
				continue
			default:
				inObject = inObject[:len(inObject)-1]
			}
		case string:
			if !wantKey {
				words = appendWords(words, x)
			}
		case json.Number:
			words = appendWords(words, x.String())
		}
		// After a key comes its value; after a value, the next key.
		if n := len(inObject); n > 0 && inObject[n-1] {
			_, isDelim := tok.(json.Delim)
			wantKey = !wantKey || isDelim
		}
	}
	return words
}

// Filter words put a document's user and account into the full-text index
// too, so a search narrowed to one user or account intersects two lists in the
// index instead of checking every match of a common word one by one (a word
// in 50,000 events, for one user: 170 ms that way, a few ms this way). They
// only narrow the candidates; the filter itself is still checked on each row,
// so a payload that happens to contain such a word cannot widen a result.
const (
	userFilterWord    = "zzuser"
	accountFilterWord = "zzacct"
)

// filterWords are the filter words of a document of user key (0 for none)
// and account id ("" for none).
func filterWords(userKey int64, accountID string) []string {
	var words []string
	if userKey > 0 {
		words = append(words, userFilterWord+strconv.FormatInt(userKey, 10))
	}
	if accountID != "" {
		sum := sha256.Sum256([]byte(accountID))
		words = append(words, accountFilterWord+hex.EncodeToString(sum[:8]))
	}
	return words
}

// tsvectorLiteral writes words as a PostgreSQL tsvector literal with positions
// ('alice':1 'example':2 ...). Words hold only letters, digits and marks, so
// nothing needs escaping and no NUL can reach PostgreSQL.
func tsvectorLiteral(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(w)
		b.WriteString("':")
		b.WriteString(strconv.Itoa(min(i+1, 16383)))
	}
	return b.String()
}

// searchTerm is one thing the search must find: a word, or a phrase of words
// that must appear in order; Prefix makes the last word a prefix.
type searchTerm struct {
	Words  []string
	Prefix bool
}

// maxSearchTerms bounds the work one query may ask for.
const maxSearchTerms = 16

// parseSearch splits what a person typed into terms, all of which must match:
// words separated by spaces, "quoted phrases", and a trailing * for a prefix.
// Punctuation inside a word makes it a phrase (acc-123 finds "acc 123"), the
// way the indexer split the payload.
func parseSearch(q string) []searchTerm {
	var terms []searchTerm
	for len(terms) < maxSearchTerms {
		q = strings.TrimLeftFunc(q, unicode.IsSpace)
		if q == "" {
			break
		}
		var chunk string
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				chunk, q = q[1:], ""
			} else {
				chunk, q = q[1:end+1], q[end+2:]
			}
		} else {
			end := strings.IndexFunc(q, unicode.IsSpace)
			if end < 0 {
				end = len(q)
			}
			chunk, q = q[:end], q[end:]
		}
		t := searchTerm{Words: appendWords(nil, chunk), Prefix: strings.HasSuffix(chunk, "*")}
		if len(t.Words) > 0 {
			terms = append(terms, t)
		}
	}
	return terms
}

// ftsMatch writes terms as an SQLite FTS4 MATCH expression: each term a quoted
// phrase, all of them required ("acc 123" "alice*").
func ftsMatch(terms []searchTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		p := `"` + strings.Join(t.Words, " ")
		if t.Prefix {
			p += "*"
		}
		parts[i] = p + `"`
	}
	return strings.Join(parts, " ")
}

// tsqueryLiteral writes terms as a PostgreSQL tsquery literal:
// ('acc' <-> '123') & ('alice':*).
func tsqueryLiteral(terms []searchTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		words := make([]string, len(t.Words))
		for j, w := range t.Words {
			words[j] = "'" + w + "'"
		}
		if t.Prefix {
			words[len(words)-1] += ":*"
		}
		parts[i] = "(" + strings.Join(words, " <-> ") + ")"
	}
	return strings.Join(parts, " & ")
}

// snippetAround returns about width characters of the payload's words around
// the first word matching a term, for showing why a result matched.
func snippetAround(words []string, terms []searchTerm, width int) string {
	at := -1
	for i, w := range words {
		for _, t := range terms {
			first := t.Words[0]
			if w == first || (t.Prefix && len(t.Words) == 1 && strings.HasPrefix(w, first)) {
				at = i
				break
			}
		}
		if at >= 0 {
			break
		}
	}
	if at < 0 {
		at = 0
	}
	lo, hi, n := at, at, 0
	for n < width && (lo > 0 || hi < len(words)) {
		if hi < len(words) {
			n += len(words[hi]) + 1
			hi++
		}
		if lo > 0 && n < width {
			lo--
			n += len(words[lo]) + 1
		}
	}
	s := strings.Join(words[lo:hi], " ")
	if lo > 0 {
		s = "… " + s
	}
	if hi < len(words) {
		s += " …"
	}
	return s
}
