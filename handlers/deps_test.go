package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"smiledash/handlers"
	"smiledash/models/ingest"
	"smiledash/models/storetest"
)

// TestNewApp_RefusesMissingStores: a Deps without the ingester or one of its
// stores is a wiring mistake, refused when the app is built and named.
func TestNewApp_RefusesMissingStores(t *testing.T) {
	t.Parallel()
	s := storetest.SQLite(t)
	in, err := ingest.New(s).NewWriter(ingest.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	noConnect := storesOf(s)
	noConnect.Connect = nil
	for _, tc := range []struct {
		name string
		deps handlers.Deps
		want string
	}{
		{"nothing", handlers.Deps{}, "Ingester, Stores.Audit, Stores.Auth, Stores.Changes, Stores.Connect, Stores.Links, Stores.Log, Stores.Pages, Stores.Recon"},
		{"no connect store", handlers.Deps{Ingester: in, Stores: noConnect}, "without Stores.Connect"},
		{"no ingester", handlers.Deps{Stores: storesOf(s)}, "without Ingester"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if got := fmt.Sprint(recover()); !strings.HasSuffix(got, tc.want) {
					t.Errorf("got panic %q, want it to end %q", got, tc.want)
				}
			}()
			handlers.NewApp(tc.deps)
		})
	}
	handlers.NewApp(handlers.Deps{Ingester: in, Stores: storesOf(s)}) // complete: no panic
}
