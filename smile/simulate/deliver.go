package simulate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"smiledash/smile"
)

// Deliver POSTs one event to url as Smile does: the exact body, Content-Type
// application/json and its Smile-Signature under secret. It returns the response
// status; any 2xx means the receiver acknowledged the event. It suits sending a
// flow's few events (the sandbox); Run is the tool for volume.
func Deliver(ctx context.Context, client *http.Client, url, secret string, ev Event) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev.Body))
	if err != nil {
		return 0, fmt.Errorf("simulate: deliver %s: %w", ev.ID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(smile.SignatureHeader, smile.SignatureFor([]byte(secret), ev.Body))
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("simulate: deliver %s: %w", ev.ID, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	return resp.StatusCode, nil
}

// deliver POSTs one event and tallies the outcome. The request is a shallow copy
// of the template with its own header map, so nothing is shared with a request
// the transport may still hold.
func (w *worker) deliver(ev Event, sig []string, dup bool) {
	req := new(http.Request)
	*req = *w.r.tmpl
	req.Header = make(http.Header, len(w.r.tmpl.Header)+1)
	for k, v := range w.r.tmpl.Header {
		req.Header[k] = v
	}
	req.Header[smile.SignatureHeader] = sig
	body := &bodyReader{b: ev.Body}
	req.Body, req.GetBody, req.ContentLength = body, body.reopen, int64(len(ev.Body))

	w.sent++
	if dup {
		w.dups++
	} else {
		w.types[ev.Type]++
	}
	w.r.sent.Add(1)
	began := time.Now()
	resp, err := w.r.client.Do(req)
	if err != nil {
		w.errs[errorKind(err)]++
		if w.errSample == "" {
			w.errSample = err.Error()
		}
		w.r.failed.Add(1)
		return
	}
	w.drain(resp.Body)
	_ = resp.Body.Close()
	w.latency.record(time.Since(began))
	if code := resp.StatusCode; code >= 0 && code < len(w.statuses) {
		w.statuses[code]++
	} else {
		w.errs[fmt.Sprintf("status %d", code)]++
	}
	if resp.StatusCode/100 == 2 {
		w.acked++
		w.r.acked.Add(1)
	} else {
		w.r.failed.Add(1)
	}
}

// drain reads up to maxDrain bytes of a response into the worker's scratch
// buffer, so a keep-alive connection can carry the next request.
func (w *worker) drain(body io.Reader) {
	for n := 0; n < maxDrain; {
		m, err := body.Read(w.scratch)
		n += m
		if err != nil {
			return
		}
	}
}

// bodyReader is a request body over a body that is never modified, so the
// transport may reopen it to retry on a dead keep-alive connection.
type bodyReader struct {
	b   []byte
	off int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *bodyReader) Close() error { return nil }

func (r *bodyReader) reopen() (io.ReadCloser, error) { return &bodyReader{b: r.b}, nil }

// errorKind names a transport error for the status breakdown.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "error: canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "error: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "error: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "error: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "error: connection closed"
	}
	return "error: other"
}
