package models_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// TestBridgeChanges_RelaysBetweenReplicas runs two stores on one PostgreSQL
// schema, as two replicas would, and checks each hears the other's changes
// exactly once and its own exactly once (no echo).
func TestBridgeChanges_RelaysBetweenReplicas(t *testing.T) {
	a := storetest.Postgres(t)
	ctx := context.Background()
	var schema string
	if err := a.DB().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	b, err := models.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	log := slog.New(slog.DiscardHandler)
	stopA, err := a.BridgeChanges(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stopA()
	stopB, err := b.BridgeChanges(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	heardA, heardB := make(chan models.Change, 16), make(chan models.Change, 16)
	defer a.OnChange(func(c models.Change) { heardA <- c })()
	defer b.OnChange(func(c models.Change) { heardB <- c })()

	// LISTEN starts asynchronously: publish until replica B hears one.
	deadline := time.Now().Add(10 * time.Second)
	var got models.Change
	for got.ID == 0 {
		if time.Now().After(deadline) {
			t.Fatal("replica B heard nothing from replica A")
		}
		if err := a.CreateAction(ctx, &models.Action{At: time.Now(), Kind: models.ActionReprojected}); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-heardB:
		case <-time.After(300 * time.Millisecond):
		}
	}
	if got.Kind != models.ChangeAction || got.Label != models.ActionReprojected {
		t.Errorf("got %+v, want the action", got)
	}
	drain := func(ch chan models.Change) {
		for {
			select {
			case <-ch:
			case <-time.After(500 * time.Millisecond):
				return
			}
		}
	}
	drain(heardA)
	drain(heardB)
	if err := b.CreateAction(ctx, &models.Action{At: time.Now(), Kind: models.ActionLinkCreated}); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan models.Change{"A": heardA, "B": heardB} {
		select {
		case c := <-ch:
			if c.Label != models.ActionLinkCreated {
				t.Errorf("replica %s got %+v, want link_created", name, c)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("replica %s did not hear B's action", name)
		}
		select {
		case c := <-ch:
			t.Errorf("replica %s heard %+v twice", name, c)
		case <-time.After(700 * time.Millisecond):
		}
	}
}
