package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smiledash/models"
	"smiledash/models/auth"
	"smiledash/models/storetest"
)

// testNow is a fixed clock for store tests.
var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

const testPassword = "correct horse battery staple"

func createAdmin(t *testing.T, s *auth.Store, email, role string) auth.Admin {
	t.Helper()
	a, err := s.CreateAdmin(context.Background(), auth.NewAdmin{Email: email, Password: testPassword, Role: role}, testNow)
	if err != nil {
		t.Fatalf("create admin %s: %v", email, err)
	}
	return a
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		a := createAdmin(t, s, "  Alice@Example.COM ", auth.RoleAdmin)
		if a.Email != "alice@example.com" || a.ID == 0 || a.Role != auth.RoleAdmin {
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
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		createAdmin(t, s, "alice@example.com", auth.RoleAdmin)
		tests := []struct {
			name string
			in   auth.NewAdmin
			want error
		}{
			{"same email other case", auth.NewAdmin{Email: "ALICE@example.com", Password: testPassword, Role: auth.RoleViewer}, auth.ErrAdminExists},
			{"not an email", auth.NewAdmin{Email: "alice", Password: testPassword, Role: auth.RoleAdmin}, auth.ErrInvalidEmail},
			{"display name", auth.NewAdmin{Email: "Al <al@example.com>", Password: testPassword, Role: auth.RoleAdmin}, auth.ErrInvalidEmail},
			{"unknown role", auth.NewAdmin{Email: "carol@example.com", Password: testPassword, Role: "root"}, auth.ErrInvalidRole},
			{"short password", auth.NewAdmin{Email: "carol@example.com", Password: "hunter2", Role: auth.RoleAdmin}, auth.ErrPasswordTooWeak},
			{"password over 72 bytes", auth.NewAdmin{Email: "carol@example.com", Password: strings.Repeat("p", 73), Role: auth.RoleAdmin}, auth.ErrPasswordTooLong},
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
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		first := auth.NewAdmin{Email: "first@example.com", Password: testPassword, Role: auth.RoleAdmin}
		created, err := s.CreateFirstAdmin(ctx, first, testNow)
		if err != nil || !created {
			t.Fatalf("first call: got %v, %v; want created", created, err)
		}
		second := auth.NewAdmin{Email: "second@example.com", Password: testPassword, Role: auth.RoleAdmin}
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
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		createAdmin(t, s, "alice@example.com", auth.RoleViewer)
		later := testNow.Add(time.Hour)
		a, err := s.Authenticate(ctx, "Alice@example.com", testPassword, later)
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		if a.LastSignInAt == nil || !a.LastSignInAt.Equal(later) || a.Role != auth.RoleViewer {
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
				if _, err := s.Authenticate(ctx, tc.email, tc.password, later); !errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("got %v, want ErrBadCredentials", err)
				}
			})
		}
	})
}

func TestTakeSignIn(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		ctx := context.Background()
		take := func(at auth.SignInAttempt, now time.Time) time.Duration {
			t.Helper()
			d, err := s.TakeSignIn(ctx, at, now)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		alice := auth.SignInAttempt{Email: "Alice@example.com", IP: "192.0.2.1"}
		// Per (email, address): the sixth attempt within the window is refused.
		for i := range auth.LoginFailuresPerEmail {
			if d := take(alice, testNow.Add(time.Duration(i)*time.Minute)); d != 0 {
				t.Fatalf("attempt %d: got wait %v, want 0", i+1, d)
			}
		}
		now := testNow.Add(5 * time.Minute)
		if d := take(auth.SignInAttempt{Email: "alice@EXAMPLE.com", IP: "192.0.2.1"}, now); d != 10*time.Minute {
			t.Fatalf("sixth attempt: got wait %v, want 10m (the window started with the first)", d)
		}
		// Not from another address, and not for a trusted browser at this one:
		// guessing locks nobody else out.
		if d := take(auth.SignInAttempt{Email: "alice@example.com", IP: "198.51.100.7"}, now); d != 0 {
			t.Fatalf("other address: got wait %v, want 0", d)
		}
		if d := take(auth.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1", Device: "dev1"}, now); d != 0 {
			t.Fatalf("trusted browser: got wait %v, want 0", d)
		}
		if d := take(alice, testNow.Add(auth.LoginThrottleWindow)); d != 0 {
			t.Fatalf("once the window ended: got wait %v, want 0", d)
		}
		// A right password forgets the (email, address) window.
		if err := s.SignInSucceeded(ctx, alice, now); err != nil {
			t.Fatal(err)
		}
		for i := range auth.LoginFailuresPerEmail {
			if d := take(alice, testNow.Add(auth.LoginThrottleWindow)); d != 0 {
				t.Fatalf("after success, attempt %d: got wait %v, want 0", i+1, d)
			}
		}

		// Per address: many emails from one address.
		for i := range auth.LoginFailuresPerIP {
			at := auth.SignInAttempt{Email: strings.Repeat("x", i+1) + "@example.com", IP: "203.0.113.9"}
			if d := take(at, now); d != 0 {
				t.Fatalf("address attempt %d: got wait %v, want 0", i+1, d)
			}
		}
		if d := take(auth.SignInAttempt{Email: "new@example.com", IP: "203.0.113.9"}, now); d != auth.LoginThrottleWindow {
			t.Fatalf("after %d attempts from one address: got wait %v, want %v", auth.LoginFailuresPerIP, d, auth.LoginThrottleWindow)
		}
		// The refused attempt took nothing from new@example.com's own limit.
		var n int64
		if err := m.DB().Raw("SELECT count(*) FROM throttle_counters WHERE n = 0").Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("got %d counters at zero (%v), want new@example.com's refunded", n, err)
		}

		// Per device: its own limit, whatever the email's and address's counts.
		dev := auth.SignInAttempt{Email: "alice@example.com", IP: "203.0.113.9", Device: "dev2"}
		for i := range auth.LoginFailuresPerDevice {
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
	storetest.Each(t, func(t *testing.T, m *models.Store) {
		s := auth.New(m)
		var wg sync.WaitGroup
		var allowed atomic.Int64
		for range 40 {
			wg.Go(func() {
				d, err := s.TakeSignIn(context.Background(), auth.SignInAttempt{Email: "alice@example.com", IP: "192.0.2.1"}, testNow)
				if err != nil {
					t.Error(err)
				}
				if d == 0 {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if got := allowed.Load(); got != auth.LoginFailuresPerEmail {
			t.Fatalf("got %d of 40 parallel attempts allowed, want %d", got, auth.LoginFailuresPerEmail)
		}
	})
}
