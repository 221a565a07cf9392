package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// notifyPayloadMax keeps a NOTIFY payload under PostgreSQL's 8000-byte limit.
const notifyPayloadMax = 7000

// wireChanges is one NOTIFY: the changes one replica stored (every field of
// Change, UserID too, under its Go name), with its origin so the replica can
// ignore its own.
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
	dsn := postgresDSN(db)
	var id [8]byte
	_, _ = rand.Read(id[:])
	b := &bridge{
		db: db, dsn: dsn, bus: bus, log: log, origin: hex.EncodeToString(id[:]),
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
	dsn             string // for the LISTEN connection only, outside the pool
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

// listenOnce listens on a connection of its own, outside the store's pool. A
// pooled connection held in LISTEN (database/sql's Conn.Raw) keeps its lock
// while it waits, so closing any statement the pool had prepared on it (the
// ingest writer's, when it drains at shutdown) blocked until a notification
// happened to arrive: on a quiet replica, SIGTERM never finished.
func (b *bridge) listenOnce(ctx context.Context) error {
	pc, err := pgx.Connect(ctx, b.dsn)
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = pc.Close(closeCtx)
	}()
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		return err
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		b.republish(n.Payload)
	}
}

// postgresDSN is the URL the store was opened with (its search_path included).
func postgresDSN(db *gorm.DB) string {
	if d, ok := db.Dialector.(*postgres.Dialector); ok {
		return d.DSN
	}
	return ""
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
