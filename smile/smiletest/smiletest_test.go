package smiletest

import "testing"

func TestEveryFixtureMatchesItsSchema(t *testing.T) {
	types := EventTypes()
	if len(types) != 37 {
		t.Fatalf("got %d event fixtures, want 37", len(types))
	}
	for _, typ := range types {
		t.Run(typ, func(t *testing.T) {
			if err := ValidateEvent(Event(typ)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateEventRejectsWrongShape(t *testing.T) {
	body := []byte(`{"id":"et-1","version":1,"type":"ACCOUNT_CONNECTED","createdAt":"2026-03-02T04:18:03Z","data":{"userId":42}}`)
	if err := ValidateEvent(body); err == nil {
		t.Fatal("got nil error for a userId that is a number, want a schema error")
	}
}
