package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/storetest"
)

// testNow is a fixed clock for store tests.
var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

const testPassword = "correct horse battery staple"

func createAdmin(t *testing.T, s *models.Store, email, role string) models.Admin {
	t.Helper()
	a, err := s.CreateAdmin(context.Background(), models.NewAdmin{Email: email, Password: testPassword, Role: role}, testNow)
	if err != nil {
		t.Fatalf("create admin %s: %v", email, err)
	}
	return a
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		a := createAdmin(t, s, "  Alice@Example.COM ", models.RoleAdmin)
		if a.Email != "alice@example.com" || a.ID == 0 || a.Role != models.RoleAdmin {
			t.Fatalf("got %+v, want a stored admin alice@example.com", a)
		}
		if strings.Contains(a.PasswordHash, testPassword) || !strings.HasPrefix(a.PasswordHash, "$2") {
			t.Fatalf("got hash %q, want a bcrypt hash", a.PasswordHash)
		}
		got, err := s.AdminByEmail(ctx, "ALICE@example.com")
		if err != nil || got.ID != a.ID {
			t.Fatalf("AdminByEmail: got %+v, %v; want id %d", got, err, a.ID)
		}
		if _, err := s.AdminByEmail(ctx, "bob@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("AdminByEmail(unknown): got %v, want ErrNotFound", err)
		}
		n, err := s.AdminCount(ctx)
		if err != nil || n != 1 {
			t.Fatalf("AdminCount: got %d, %v; want 1", n, err)
		}
	})
}

func TestCreateAdmin_Refused(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		createAdmin(t, s, "alice@example.com", models.RoleAdmin)
		tests := []struct {
			name string
			in   models.NewAdmin
			want error
		}{
			{"same email other case", models.NewAdmin{Email: "ALICE@example.com", Password: testPassword, Role: models.RoleViewer}, models.ErrAdminExists},
			{"not an email", models.NewAdmin{Email: "alice", Password: testPassword, Role: models.RoleAdmin}, models.ErrInvalidEmail},
			{"display name", models.NewAdmin{Email: "Al <al@example.com>", Password: testPassword, Role: models.RoleAdmin}, models.ErrInvalidEmail},
			{"unknown role", models.NewAdmin{Email: "carol@example.com", Password: testPassword, Role: "root"}, models.ErrInvalidRole},
			{"short password", models.NewAdmin{Email: "carol@example.com", Password: "hunter2", Role: models.RoleAdmin}, models.ErrPasswordTooWeak},
			{"password over 72 bytes", models.NewAdmin{Email: "carol@example.com", Password: strings.Repeat("p", 73), Role: models.RoleAdmin}, models.ErrPasswordTooLong},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.CreateAdmin(context.Background(), tc.in, testNow); !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			})
		}
	})
}

func TestCreateFirstAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		first := models.NewAdmin{Email: "first@example.com", Password: testPassword, Role: models.RoleAdmin}
		created, err := s.CreateFirstAdmin(ctx, first, testNow)
		if err != nil || !created {
			t.Fatalf("first call: got %v, %v; want created", created, err)
		}
		second := models.NewAdmin{Email: "second@example.com", Password: testPassword, Role: models.RoleAdmin}
		created, err = s.CreateFirstAdmin(ctx, second, testNow)
		if err != nil || created {
			t.Fatalf("second call: got %v, %v; want nothing created", created, err)
		}
		if _, err := s.AdminByEmail(ctx, "second@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("got %v, want no second admin", err)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		createAdmin(t, s, "alice@example.com", models.RoleViewer)
		later := testNow.Add(time.Hour)
		a, err := s.Authenticate(ctx, "Alice@example.com", testPassword, later)
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		if a.LastSignInAt == nil || !a.LastSignInAt.Equal(later) || a.Role != models.RoleViewer {
			t.Fatalf("got %+v, want viewer signed in at %v", a, later)
		}
		stored, _ := s.AdminByEmail(ctx, "alice@example.com")
		if stored.LastSignInAt == nil || !stored.LastSignInAt.Equal(later) {
			t.Fatalf("stored last sign-in %v, want %v", stored.LastSignInAt, later)
		}
		for _, tc := range []struct{ name, email, password string }{
			{"wrong password", "alice@example.com", testPassword + "!"},
			{"unknown email", "mallory@example.com", testPassword},
			{"empty password", "alice@example.com", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.Authenticate(ctx, tc.email, tc.password, later); !errors.Is(err, models.ErrBadCredentials) {
					t.Fatalf("got %v, want ErrBadCredentials", err)
				}
			})
		}
	})
}

func TestTakeSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		take := func(at models.SignInAttempt, now time.Time) time.Duration {
			t.Helper()
			d, err := s.TakeSignIn(ctx, at, now)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		alice := models.SignInAttempt{Email: "Alice@example.com", IP: "192.0.2.1"}
		// Per (email, address): the sixth attempt within the window is refused.
		for i := range models.LoginFailuresPerEmail {
			if d := take(alice, testNow.Add(time.Duration(i)*time.Minute)); d != 0 {
				t.Fatalf("attempt %d: got wait %v, want 0", i+1, d)
			}
		}
		now := testNow.Add(5 * time.Minute)
		if d := take(models.SignInAttempt{Email: "alice@EXAMPLE.com", IP: "192.0.2.1"}, now); d != 10*time.Minute {
			t.Fatalf("sixth attempt: got wait %v, want 10m (the window started with the first)", d)
		}
		// Not from another address, and not for a trusted browser at this one:
		// guessing locks nobody else out.
		if d := take(models.SignInAttempt{Email: "alice@example.com", IP: "198.51.100.7"}, now); d != 0 {
			t.Fatalf("other address: got wait %v, want 0", d)
		}
		if d := take(models.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1", Device: "dev1"}, now); d != 0 {
			t.Fatalf("trusted browser: got wait %v, want 0", d)
		}
		if d := take(alice, testNow.Add(models.LoginThrottleWindow)); d != 0 {
			t.Fatalf("once the window ended: got wait %v, want 0", d)
		}
		// A right password forgets the (email, address) window.
		if err := s.SignInSucceeded(ctx, alice, now); err != nil {
			t.Fatal(err)
		}
		for i := range models.LoginFailuresPerEmail {
			if d := take(alice, testNow.Add(models.LoginThrottleWindow)); d != 0 {
				t.Fatalf("after success, attempt %d: got wait %v, want 0", i+1, d)
			}
		}

		// Per address: many emails from one address.
		for i := range models.LoginFailuresPerIP {
			at := models.SignInAttempt{Email: strings.Repeat("x", i+1) + "@example.com", IP: "203.0.113.9"}
			if d := take(at, now); d != 0 {
				t.Fatalf("address attempt %d: got wait %v, want 0", i+1, d)
			}
		}
		if d := take(models.SignInAttempt{Email: "new@example.com", IP: "203.0.113.9"}, now); d != models.LoginThrottleWindow {
			t.Fatalf("after %d attempts from one address: got wait %v, want %v", models.LoginFailuresPerIP, d, models.LoginThrottleWindow)
		}
		// The refused attempt took nothing from new@example.com's own limit.
		var n int64
		if err := s.DB().Raw("SELECT count(*) FROM throttle_counters WHERE n = 0").Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("got %d counters at zero (%v), want new@example.com's refunded", n, err)
		}

		// Per device: its own limit, whatever the email's and address's counts.
		dev := models.SignInAttempt{Email: "alice@example.com", IP: "203.0.113.9", Device: "dev2"}
		for i := range models.LoginFailuresPerDevice {
			if d := take(dev, now); d != 0 {
				t.Fatalf("device attempt %d: got wait %v, want 0", i+1, d)
			}
		}
		if d := take(dev, now); d == 0 {
			t.Fatal("device past its limit: got no wait")
		}
	})
}

// TestTakeSignIn_Concurrent: parallel attempts cannot slip past the limit.
func TestTakeSignIn_Concurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		var wg sync.WaitGroup
		var allowed atomic.Int64
		for range 40 {
			wg.Go(func() {
				d, err := s.TakeSignIn(context.Background(), models.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1"}, testNow)
				if err != nil {
					t.Error(err)
				}
				if d == 0 {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != models.LoginFailuresPerEmail {
			t.Fatalf("got %d of 40 parallel attempts allowed, want %d", got, models.LoginFailuresPerEmail)
		}
	})
}
