package ingest

import (
	"testing"
	"time"
)

func TestWriterLoad_SaturatedWhenCommittingMostOfAWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

	var busy writerLoad
	// Commits of 9 ms every 10 ms: 90% of the window, which the commit
	// ending past 250 ms closes.
	for start := 0; start <= 250; start += 10 {
		busy.observe(ms(start), ms(start+9))
	}
	if !busy.saturated(ms(260)) {
		t.Error("a writer committing 90% of the time is not saturated")
	}
	if busy.saturated(ms(259 + 251)) {
		t.Error("the verdict outlived the window after the last commit")
	}

	var keepingUp writerLoad
	// Commits of 4 ms every 10 ms: 40%.
	for start := 0; start <= 250; start += 10 {
		keepingUp.observe(ms(start), ms(start+4))
	}
	if keepingUp.saturated(ms(260)) {
		t.Error("a writer committing 40% of the time is saturated")
	}

	// A saturated writer that pauses starts a new window when it resumes,
	// whose verdict replaces the old one.
	for start := 1000; start <= 1250; start += 10 {
		busy.observe(ms(start), ms(start+2))
	}
	if busy.saturated(ms(1253)) {
		t.Error("still saturated after a window at 20%")
	}
}
