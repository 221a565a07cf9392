package fakeapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Transport returns a RoundTripper that serves every request in-process
// through h, with no listener and no network: the sandbox wiring is
//
//	smile.NewClient(smile.ClientConfig{
//		BaseURL:    "http://sandbox.smile.invalid/v1",
//		HTTPClient: &http.Client{Transport: fakeapi.Transport(srv)},
//		…
//	})
//
// h sees a request shaped like one a net/http server would hand it, and a
// panic in h comes back as a transport error, as a dropped connection would.
func Transport(h http.Handler) http.RoundTripper { return transport{h: h} }

type transport struct{ h http.Handler }

// RoundTrip runs the handler synchronously and returns its recorded answer.
func (t transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		req.Body.Close() // a RoundTripper must close the body, even on error
		if err != nil {
			return nil, fmt.Errorf("fakeapi: read request body: %w", err)
		}
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sreq := serverRequest(req, body)
	rec := &recorder{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			resp, err = nil, fmt.Errorf("fakeapi: handler panicked serving %s %s: %v", req.Method, req.URL.Path, p)
		}
	}()
	t.h.ServeHTTP(rec, sreq)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rec.response(req), nil
}

// serverRequest turns an outgoing request into the incoming one a server sees.
func serverRequest(req *http.Request, body []byte) *http.Request {
	sreq := req.Clone(req.Context())
	sreq.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.Host
	if sreq.Host == "" {
		sreq.Host = req.URL.Host
	}
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	sreq.RemoteAddr = "127.0.0.1:0"
	sreq.Body = http.NoBody
	if len(body) > 0 {
		sreq.Body = io.NopCloser(bytes.NewReader(body))
	}
	sreq.ContentLength = int64(len(body))
	sreq.GetBody = nil
	return sreq
}

// recorder is a minimal http.ResponseWriter that keeps the response in memory.
type recorder struct {
	header      http.Header
	sent        http.Header // the headers as they were at WriteHeader
	status      int
	body        bytes.Buffer
	wroteHeader bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.wroteHeader {
		return
	}
	r.wroteHeader = true
	r.status = status
	r.sent = r.header.Clone()
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", http.DetectContentType(b))
		}
		r.WriteHeader(http.StatusOK)
	}
	return r.body.Write(b)
}

func (r *recorder) response(req *http.Request) *http.Response {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	body := r.body.Bytes()
	h := r.sent
	if req.Method == http.MethodHead {
		body = nil
	} else {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
