package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"smiledash/handlers"
	"smiledash/models"
	"smiledash/models/storetest"
)

// TestReadyz: 200 when the store is ready, 503 with a fixed reason when it is
// not, and never the cause (driver messages, addresses) in the answer.
func TestReadyz(t *testing.T) {
	t.Parallel()
	cause := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	tests := []struct {
		name       string
		ready      func(t *testing.T) func(context.Context) error
		wantStatus int
		wantBody   string
	}{
		{"no check", nil, http.StatusOK, `"ready"`},
		{"a migrated store", func(t *testing.T) func(context.Context) error {
			return models.NewReadiness(storetest.SQLite(t), time.Minute, time.Now).Check
		}, http.StatusOK, `"ready"`},
		{"not ready", func(*testing.T) func(context.Context) error {
			return func(context.Context) error {
				return &models.NotReadyError{Reason: "database unreachable", Err: cause}
			}
		}, http.StatusServiceUnavailable, `"reason":"database unreachable"`},
		{"any other failure", func(*testing.T) func(context.Context) error {
			return func(context.Context) error { return cause }
		}, http.StatusServiceUnavailable, `"reason":"not ready"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := newTestApp(t, func(d *handlers.Deps) {
				if tc.ready != nil {
					d.Ready = tc.ready(t)
				}
			})
			got := a.do(t, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			if got.status != tc.wantStatus || !strings.Contains(got.body, tc.wantBody) {
				t.Errorf("got %d %s, want %d containing %s", got.status, got.body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(got.body, "10.0.0.7") {
				t.Errorf("the answer leaks the cause: %s", got.body)
			}
		})
	}
}
