package main

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// Connection cap. Every connection holds a file descriptor and about 20 KiB of
// buffers; the cap keeps both bounded and below the open-file limit, so the
// database, logs and outgoing requests to Smile always find a descriptor.
const (
	defaultMaxConnections = 10_000
	minMaxConnections     = 16
	// Accept errors that mean "not now" are retried after a pause that doubles
	// from minAcceptBackoff to maxAcceptBackoff.
	minAcceptBackoff = 5 * time.Millisecond
	maxAcceptBackoff = time.Second
)

// connectionCap is how many connections may be open under an open-file limit:
// at most defaultMaxConnections, and leaving an eighth of the limit (64 to
// 1,024 descriptors) for everything else.
func connectionCap(fileLimit uint64) int {
	reserve := min(max(fileLimit/8, 64), 1024)
	if fileLimit < reserve+minMaxConnections {
		return minMaxConnections
	}
	return int(min(fileLimit-reserve, defaultMaxConnections))
}

// guardedListener is the server's listener. It never holds more than its cap of
// connections: at the cap, Accept waits for one to close, leaving new ones in
// the kernel's backlog. Accept errors that are temporary (out of file
// descriptors, EMFILE/ENFILE; out of buffers) are retried with backoff instead
// of ending the server, as fasthttp would.
type guardedListener struct {
	net.Listener
	log   *slog.Logger
	slots chan struct{}
	done  chan struct{}
	once  sync.Once
	// pause waits between retries; tests replace it.
	pause func(d time.Duration, done <-chan struct{})
	// lastWarned rate-limits the warnings; only Accept's goroutine touches it.
	lastWarned time.Time
}

// warn logs at most once every warnEvery, so a flood does not flood the log too.
func (l *guardedListener) warn(msg string, attrs ...any) {
	if now := time.Now(); now.Sub(l.lastWarned) >= warnEvery {
		l.lastWarned = now
		l.log.Warn(msg, attrs...)
	}
}

const warnEvery = 10 * time.Second

func newGuardedListener(ln net.Listener, maxConns int, log *slog.Logger) *guardedListener {
	return &guardedListener{Listener: ln, log: log, slots: make(chan struct{}, maxConns), done: make(chan struct{}), pause: sleepUnlessDone}
}

// Accept waits for a free slot, then for a connection.
func (l *guardedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.warn("Connection limit reached; new connections wait until one closes", slog.Int("max_connections", cap(l.slots)))
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	backoff := minAcceptBackoff
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return &slotConn{Conn: c, release: func() { <-l.slots }}, nil
		}
		if !temporaryAcceptError(err) {
			<-l.slots
			return nil, err
		}
		l.warn("Accept failed; retrying", slog.Any("error", err))
		l.pause(backoff, l.done)
		backoff = min(backoff*2, maxAcceptBackoff)
		select {
		case <-l.done:
			<-l.slots
			return nil, net.ErrClosed
		default:
		}
	}
}

// Close stops accepting and wakes an Accept waiting for a slot.
func (l *guardedListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// temporaryAcceptError reports whether an accept error is worth retrying: the
// process or system is out of descriptors or memory for now, or it timed out.
func temporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func sleepUnlessDone(d time.Duration, done <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

// slotConn gives its slot back when it is closed (once, however often Close is called).
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
