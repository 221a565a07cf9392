package models

import (
	"strings"
	"testing"
)

func TestSearchWords(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"values not keys, in order", `{"employer":"Siam Cement","n":[42,{"loginName":"a.b@x.th"}]}`, "siam cement 42 a b x th"},
		{"NUL and control characters split words", "{\"a\":\"bad\\u0000name\"}", "bad name"},
		{"not JSON", "plain text, Ünïcode", "plain text ünïcode"},
		{"invalid UTF-8", "caf\xff\xfeé", "caf é"},
		{"Thai marks stay inside words", `{"n":"สมชาย ใจดี"}`, "สมชาย ใจดี"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(searchWords([]byte(tc.body)), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	long := `{"blob":"` + strings.Repeat("x", maxWordLen+1) + ` ok","many":"` + strings.Repeat("w ", maxDocWords+10) + `"}`
	if got := searchWords([]byte(long)); len(got) != maxDocWords || got[0] != "ok" {
		t.Errorf("got %d words starting %q, want %d starting ok", len(got), got[0], maxDocWords)
	}
}

func TestParseSearch(t *testing.T) {
	terms := parseSearch(`Siam "cement group" acc-123 logis* ;; "unclosed phrase`)
	if got, want := ftsMatch(terms), `"siam" "cement group" "acc 123" "logis*" "unclosed phrase"`; got != want {
		t.Errorf("fts: got %s, want %s", got, want)
	}
	if got, want := tsqueryLiteral(terms), `('siam') & ('cement' <-> 'group') & ('acc' <-> '123') & ('logis':*) & ('unclosed' <-> 'phrase')`; got != want {
		t.Errorf("tsquery: got %s, want %s", got, want)
	}
	if got := parseSearch(strings.Repeat("a ", 100)); len(got) != maxSearchTerms {
		t.Errorf("got %d terms, want at most %d", len(got), maxSearchTerms)
	}
}
