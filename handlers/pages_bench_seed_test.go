package handlers_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smiledash/models"
)

// The benchmark data set: 1,000,000 events for 100,000 users, one of whom
// (benchHeavyUser) has 10,000 of them, with the overview's counters, the
// search index and the attention page's gaps and datapoints.
const (
	benchEvents    = 1_000_000
	benchUsers     = 100_000
	benchHeavyUser = "bench-user-000000"
	benchSeedRev   = "5" // bump when the generator, the search indexer or the overview counters change
)

var benchTypes = []string{"ACCOUNT_CREATED", "ACCOUNT_CONNECTED", "TASK_STARTED", "TASK_FINISHED", "INCOMES_ADDED",
	"EMPLOYMENTS_ADDED", "IDENTITY_ADDED", "TRANSACTIONS_ADDED", "CONTRIBUTIONS_ADDED", "DOCUMENTS_ADDED",
	"ACCOUNT_SYNC_TASK_FINISHED", "ACCOUNT_FAILED", "ACCOUNT_DISCONNECTED", "USER_CREATED"}

var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchNow is the benchmark's clock: a minute after the newest seeded event,
// so the overview's ranges and the gaps' window cover data.
var benchNow = benchBase.Add(benchEvents*30*time.Second + time.Minute)

// benchStore opens a migrated store on a copy of the seeded data set.
func benchStore(b *testing.B) *models.Store {
	b.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, benchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return store
}

// benchDB returns a copy of the seeded SQLite file, seeding it once per schema
// and generator revision into $TMPDIR (about 400 MB), so re-runs start fast.
func benchDB(b *testing.B) string {
	b.Helper()
	cache := filepath.Join(os.TempDir(), "smiledash-bench-"+benchSchemaKey(b)+".db")
	if _, err := os.Stat(cache); err != nil {
		start := time.Now()
		tmp := cache + ".partial"
		_ = os.Remove(tmp)
		if err := seedBenchDB(tmp); err != nil {
			b.Fatalf("seed: %v", err)
		}
		if err := os.Rename(tmp, cache); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %s in %s", cache, time.Since(start).Round(time.Second))
	}
	dst := filepath.Join(b.TempDir(), "bench.db")
	if err := copyFile(cache, dst); err != nil {
		b.Fatal(err)
	}
	return dst
}

// benchSchemaKey changes whenever a migration or the generator does.
func benchSchemaKey(b *testing.B) string {
	h := sha256.New()
	files, err := filepath.Glob("../migrations/sqlite/*.sql")
	if err != nil || len(files) == 0 {
		b.Fatalf("migrations: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		h.Write(data)
	}
	h.Write([]byte(benchSeedRev))
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// seedBenchDB applies the real migrations, then writes rows directly with
// multi-row INSERTs in large transactions: the HTTP path would take minutes.
func seedBenchDB(path string) error {
	ctx := context.Background()
	s, err := models.Open(ctx, path)
	if err != nil {
		return err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return err
	}
	s.Close()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_cache_size=-1048576&_foreign_keys=off")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	g := &benchGen{db: db, rng: rand.New(rand.NewPCG(1, 2)), lastSeen: make([]time.Time, benchUsers+1),
		firstSeen: make([]time.Time, benchUsers+1), counts: make([]int64, benchUsers+1), types: map[string]int64{},
		hourly: map[benchHourKey]int64{}}
	for _, step := range []func() error{g.users, g.events, g.finishUsers, g.accounts, g.heavyExtras, g.overview, g.attention} {
		if err := step(); err != nil {
			return err
		}
	}
	// The seed wrote the projections itself: the projector starts past it.
	if _, err := db.Exec("UPDATE projector_state SET position_seq = (SELECT MAX(seq) FROM events)"); err != nil {
		return err
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	return indexBenchDB(ctx, path)
}

// indexBenchDB builds the search index as the background indexer would, in
// large batches.
func indexBenchDB(ctx context.Context, path string) error {
	s, err := models.Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		n, err := s.IndexSearch(ctx, 20_000)
		if err != nil || n == 0 {
			return err
		}
	}
}

type benchGen struct {
	db                  *sql.DB
	rng                 *rand.Rand
	lastSeen, firstSeen []time.Time
	counts              []int64
	types               map[string]int64
	hourly              map[benchHourKey]int64 // event_hourly, as the projection keeps it
}

type benchHourKey struct {
	hour                int64
	typ, provider, code string
}

// insert writes rows in statements of up to 400 rows, in one transaction.
func (g *benchGen) insert(table, cols string, n int, row func(i int) []any) error {
	tx, err := g.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ncol := strings.Count(cols, ",") + 1
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", ncol), ",") + ")"
	const per = 400
	args := make([]any, 0, per*ncol)
	flush := func(k int) error {
		if k == 0 {
			return nil
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", k), ",")
		_, err := tx.Exec(q, args...)
		args = args[:0]
		return err
	}
	k := 0
	for i := range n {
		args = append(args, row(i)...)
		if k++; k == per {
			if err := flush(k); err != nil {
				return fmt.Errorf("insert %s: %w", table, err)
			}
			k = 0
		}
	}
	if err := flush(k); err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return tx.Commit()
}

func benchUserID(i int) string { return fmt.Sprintf("bench-user-%06d", i) }

func (g *benchGen) users() error {
	return g.insert("smile_users", "user_key, id", benchUsers, func(i int) []any { return []any{i + 1, benchUserID(i)} })
}

func (g *benchGen) events() error {
	for chunk := 0; chunk < benchEvents; chunk += 100_000 {
		err := g.insert("events", "seq, event_id, type, created_at, received_at, user_key, account_id, source_ip, secret_index, body",
			100_000, func(i int) []any {
				seq := chunk + i + 1
				user := 1 + g.rng.IntN(benchUsers-1)
				if seq%100 == 0 {
					user = 0 // the heavy user: every hundredth event
				}
				account := fmt.Sprintf("acc-%06d-%d", user, seq%2)
				if user == 0 {
					account = fmt.Sprintf("acc-%06d-%d", user, seq%5)
				}
				typ := benchTypes[g.rng.IntN(len(benchTypes))]
				at := benchBase.Add(time.Duration(seq) * 30 * time.Second)
				g.types[typ]++
				hk := benchHourKey{hour: at.Unix() / 3600 * 3600, typ: typ}
				switch typ {
				case "ACCOUNT_FAILED":
					hk.provider, hk.code = fmt.Sprintf("prov%02d", user%20), "INVALID_CREDENTIALS"
				case "ACCOUNT_CREATED", "ACCOUNT_CONNECTED":
					hk.provider = fmt.Sprintf("prov%02d", user%20)
				}
				g.hourly[hk]++
				g.counts[user]++
				if g.firstSeen[user].IsZero() {
					g.firstSeen[user] = at
				}
				g.lastSeen[user] = at
				id := fmt.Sprintf("et-bench-%07d", seq)
				body := fmt.Sprintf(`{"id":%q,"version":1,"type":%q,"createdAt":%q,"data":{"userId":%q,"accountId":%q,"providers":["prov%02d"],"loginName":"login-%06d","count":3}}`,
					id, typ, at.Format(time.RFC3339), benchUserID(user), account, user%20, user)
				return []any{seq, id, typ, at, at.Add(time.Second), user + 1, account, "18.142.61.230", 0, []byte(body)}
			})
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *benchGen) finishUsers() error {
	tx, err := g.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.Prepare("UPDATE smile_users SET first_seen_at = ?, last_seen_at = ?, created_at = ?, event_count = ? WHERE user_key = ?")
	if err != nil {
		return err
	}
	for i := range benchUsers {
		if g.counts[i] == 0 {
			continue
		}
		if _, err := st.Exec(g.firstSeen[i], g.lastSeen[i], g.firstSeen[i], g.counts[i], i+1); err != nil {
			return err
		}
	}
	for typ, n := range g.types {
		if _, err := tx.Exec("INSERT INTO event_counts (type, stored) VALUES (?, ?)", typ, n); err != nil {
			return err
		}
	}
	return tx.Commit()
}

var benchStatuses = []string{"ERROR", "CONNECTED", "CONNECTED", "CONNECTED", "CONNECTED", "CONNECTED", "PENDING", "DISCONNECTED"}

func (g *benchGen) accounts() error {
	return g.insert("accounts", "id, user_key, provider_id, status, error_code, error_message, login_name, first_seen_at, last_seen_at, event_count",
		benchUsers*2, func(i int) []any {
			user, n := i/2, i%2
			status := benchStatuses[(user+n)%len(benchStatuses)]
			code, msg := "", ""
			if status == "ERROR" {
				code, msg = "INVALID_CREDENTIALS", "Wrong password"
			}
			last := g.lastSeen[user]
			if last.IsZero() {
				last = benchBase
			}
			return []any{fmt.Sprintf("acc-%06d-%d", user, n), user + 1, fmt.Sprintf("prov%02d", user%20), status, code, msg,
				fmt.Sprintf("login-%06d", user), benchBase, last, g.counts[user] / 2}
		})
}

// heavyExtras gives the heavy user more accounts, data, callbacks, actions,
// and the store some refused deliveries.
func (g *benchGen) heavyExtras() error {
	last := g.lastSeen[0]
	steps := []func() error{
		func() error {
			return g.insert("accounts", "id, user_key, provider_id, status, login_name, first_seen_at, last_seen_at, event_count", 3,
				func(i int) []any {
					return []any{fmt.Sprintf("acc-000000-%d", i+2), 1, "prov00", "CONNECTED", "login-000000", benchBase, last, 2000}
				})
		},
		func() error {
			points := []string{"INCOMES", "EMPLOYMENTS", "IDENTITY", "TRANSACTIONS", "CONTRIBUTIONS", "DOCUMENTS"}
			return g.insert("data_availability", "account_id, datapoint, user_key, items_added, items_updated, events, in_task, last_updated_at",
				5*len(points), func(i int) []any {
					return []any{fmt.Sprintf("acc-000000-%d", i/len(points)), points[i%len(points)], 1, 300, 20, 100, true, last}
				})
		},
		func() error {
			return g.insert("callbacks", "received_at, user_key, name, account_id, source_ip, user_agent, args", 500, func(i int) []any {
				return []any{benchBase.Add(time.Duration(i) * 17 * time.Hour), 1, "onAccountConnected", "acc-000000-0", "203.0.113.9", "bench", `{"accountId":"acc-000000-0"}`}
			})
		},
		func() error {
			return g.insert("actions", "at, user_key, kind, actor, detail", 100, func(i int) []any {
				return []any{benchBase.Add(time.Duration(i) * 80 * time.Hour), 1, "link_opened", "", "{}"}
			})
		},
		func() error {
			return g.insert("deliveries", "received_at, source_ip, outcome, reason, status, body_bytes, excerpt", 10_000, func(i int) []any {
				return []any{benchBase.Add(time.Duration(i) * time.Minute), "198.51.100.7", "rejected", "bad_signature", 401, 180, `{"id":"et-x"}`}
			})
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// overview seeds the overview's hourly and daily counters (from the events generated)
// and a connect funnel: every user's link opened once when the user first
// appeared, and its widget calling back a minute later.
func (g *benchGen) overview() error {
	keys := make([]benchHourKey, 0, len(g.hourly))
	for k := range g.hourly {
		keys = append(keys, k)
	}
	err := g.insert("event_hourly", "hour, type, provider_id, error_code, stored", len(keys), func(i int) []any {
		k := keys[i]
		return []any{k.hour, k.typ, k.provider, k.code, g.hourly[k]}
	})
	if err != nil {
		return err
	}
	daily := map[benchHourKey]int64{}
	for k, n := range g.hourly {
		k.hour = k.hour / 86400 * 86400
		daily[k] += n
	}
	days := make([]benchHourKey, 0, len(daily))
	for k := range daily {
		days = append(days, k)
	}
	err = g.insert("event_daily", "day, type, provider_id, error_code, stored", len(days), func(i int) []any {
		k := days[i]
		return []any{k.hour, k.typ, k.provider, k.code, daily[k]}
	})
	if err != nil {
		return err
	}
	opened := func(i int) time.Time {
		if g.firstSeen[i].IsZero() {
			return benchBase
		}
		return g.firstSeen[i]
	}
	err = g.insert("actions", "at, user_key, link_id, kind, actor, detail", benchUsers, func(i int) []any {
		return []any{opened(i), i + 1, i + 1, "link_opened", "end user", "{}"}
	})
	if err != nil {
		return err
	}
	return g.insert("callbacks", "received_at, user_key, link_id, name, args", benchUsers, func(i int) []any {
		return []any{opened(i).Add(time.Minute), i + 1, i + 1, "onUIEvent", `{"eventName":"ConsentPageOpened"}`}
	})
}
