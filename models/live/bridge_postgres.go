package live

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// notifyPayloadMax keeps a NOTIFY payload under PostgreSQL's 8000-byte limit.
const notifyPayloadMax = 7000

// wireChanges is one NOTIFY: the changes one replica stored, with its origin so
// the replica can ignore its own.
type wireChanges struct {
	Origin  string   `json:"o"`
	Changes []Change `json:"c"`
}

// Bridge makes live views see changes stored by every replica: it relays
// what is published on bus with NOTIFY (batched, at most one statement in
// flight) and republishes other replicas' changes on bus. On any database but
// PostgreSQL there is a single process and it does nothing. Relaying is best
// effort, like the live views it feeds: when the relay falls behind, changes
// are dropped and logged, never queued without bound; a page reload shows
// everything. The channel is named after the current schema, so replicas
// sharing a schema hear each other and nobody else.
func Bridge(ctx context.Context, db *gorm.DB, bus *Bus, log *slog.Logger) (stop func(), err error) {
	if db.Dialector.Name() != "postgres" {
		return func() {}, nil
	}
	var schema string
	if err := db.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return nil, fmt.Errorf("live: bridge changes: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("live: bridge changes: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &bridge{
		db: db, sqlDB: sqlDB, bus: bus, log: log, origin: hex.EncodeToString(id[:]),
		channel: "smiledash_changes_" + schema, out: make(chan Change, 4096), remote: map[changeKey]struct{}{},
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unlisten := bus.Subscribe(b.local)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); b.send(ctx) }()
	go func() { defer wg.Done(); b.listen(ctx) }()
	return func() {
		unlisten()
		cancel()
		wg.Wait()
	}, nil
}

type changeKey struct {
	kind string
	id   int64
}

type bridge struct {
	db              *gorm.DB
	sqlDB           *sql.DB // for the LISTEN connection only
	bus             *Bus
	log             *slog.Logger
	origin, channel string
	out             chan Change

	mu     sync.Mutex
	remote map[changeKey]struct{} // changes being republished, not to relay back
}

// local hears every change published in this process; it must not block.
func (b *bridge) local(c Change) {
	b.mu.Lock()
	_, remote := b.remote[changeKey{c.Kind, c.ID}]
	delete(b.remote, changeKey{c.Kind, c.ID})
	b.mu.Unlock()
	if remote {
		return
	}
	select {
	case b.out <- c:
	default:
		b.log.Warn("Live change relay behind, change dropped", slog.String("kind", c.Kind), slog.Int64("id", c.ID))
	}
}

func (b *bridge) send(ctx context.Context) {
	for {
		var batch []Change
		select {
		case <-ctx.Done():
			return
		case c := <-b.out:
			batch = append(batch, c)
		}
	drain:
		for len(batch) < 40 {
			select {
			case c := <-b.out:
				batch = append(batch, c)
			default:
				break drain
			}
		}
		b.notify(ctx, batch)
	}
}

// notify sends a batch, halving it while its payload is too large.
func (b *bridge) notify(ctx context.Context, batch []Change) {
	payload, err := json.Marshal(wireChanges{Origin: b.origin, Changes: batch})
	if err == nil && len(payload) > notifyPayloadMax {
		if len(batch) == 1 {
			b.log.Warn("Live change too large to relay", slog.Int64("id", batch[0].ID))
			return
		}
		b.notify(ctx, batch[:len(batch)/2])
		b.notify(ctx, batch[len(batch)/2:])
		return
	}
	if err == nil {
		err = b.db.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", b.channel, string(payload)).Error
	}
	if err != nil && ctx.Err() == nil {
		b.log.Warn("Live change relay failed", slog.Int("changes", len(batch)), slog.Any("error", err))
	}
}

// listen holds one connection in LISTEN, reconnecting after failures.
func (b *bridge) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := b.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("Live change listener reconnecting", slog.Any("error", err))
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (b *bridge) listenOnce(ctx context.Context) error {
	conn, err := b.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("live: listen needs a pgx connection, got %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The session still listens: never hand it back to the pool.
				return errors.Join(err, driver.ErrBadConn)
			}
			b.republish(n.Payload)
		}
	})
}

func (b *bridge) republish(payload string) {
	var w wireChanges
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		b.log.Warn("Live change from another replica unreadable", slog.Any("error", err))
		return
	}
	if w.Origin == b.origin {
		return
	}
	for _, c := range w.Changes {
		b.mu.Lock()
		if len(b.remote) > 10_000 {
			clear(b.remote) // only if publishing panicked between add and take
		}
		b.remote[changeKey{c.Kind, c.ID}] = struct{}{}
		b.mu.Unlock()
		b.bus.Publish(c)
	}
}
