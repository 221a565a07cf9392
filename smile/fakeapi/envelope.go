package fakeapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"smiledash/smile"
)

// envelope is Smile's response body (smile-api.md §4.2). Error and delete
// answers carry no data: the spec's error schema types `data` as a
// non-nullable object, so leaving it out is the one shape that validates.
type envelope struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
	Data      any    `json:"data,omitempty"`
}

// listData is the `data` of every list endpoint.
type listData[T any] struct {
	NextCursor *string `json:"nextCursor"`
	Items      []T     `json:"items"`
}

func writeData(w http.ResponseWriter, status int, data any) {
	writeEnvelope(w, status, envelope{Code: smile.CodeOK, Message: "Success", Data: data})
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeEnvelope(w, status, envelope{Code: code, Message: message})
}

func writeEnvelope(w http.ResponseWriter, status int, env envelope) {
	env.RequestID = newRequestID()
	b, err := json.Marshal(env)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"SERVER_ERROR","message":"Internal error","requestId":"` + env.RequestID + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func invalidParameters(w http.ResponseWriter, format string, args ...any) {
	writeError(w, http.StatusBadRequest, smile.CodeInvalidParameters, fmt.Sprintf(format, args...))
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, smile.CodeMissingResource, what+" not found")
}

// decodeBody reads an optional JSON body into v. It answers the request
// itself and returns false when the body is unusable. An empty body leaves v
// untouched.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			invalidParameters(w, "Request body is larger than %d bytes", tooBig.Limit)
			return false
		}
		invalidParameters(w, "Request body could not be read")
		return false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		// In Smile's error table but not in the spec's code enum (smile-api.md §4.2, §8 item 19).
		writeError(w, http.StatusUnsupportedMediaType, smile.CodeUnsupportedType, "Content-Type must be application/json")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		invalidParameters(w, "Request body is not valid JSON for this endpoint: %s", jsonProblem(err))
		return false
	}
	if dec.More() {
		invalidParameters(w, "Request body has trailing data")
		return false
	}
	return true
}

// jsonProblem describes a decode error without echoing the body.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("field %q must be %s", typeErr.Field, typeErr.Type)
	}
	return "malformed JSON"
}

// pageSize reads the `size` parameter: default 10, 1..150 (smile-api.md §4.3).
func pageSize(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("size")
	if v == "" {
		return 10, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > smile.MaxPageSize {
		invalidParameters(w, "size must be an integer from 1 to %d", smile.MaxPageSize)
		return 0, false
	}
	return n, true
}

// encodeCursor and decodeCursor make opaque cursors that name the last item
// served by its sequence number. kind keeps one list's cursor out of another.
func encodeCursor(kind string, seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatUint(seq, 10)))
}

func decodeCursor(w http.ResponseWriter, r *http.Request, kind string) (uint64, bool) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return 0, true
	}
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(raw), kind+":"); ok {
			if seq, err := strconv.ParseUint(rest, 10, 64); err == nil {
				return seq, true
			}
		}
	}
	invalidParameters(w, "cursor is not valid")
	return 0, false
}

// paginate returns the items after cursor (items are in sequence order) and
// the cursor of the next page, nil when this page is the last.
func paginate[T any](items []T, seqOf func(T) uint64, after uint64, size int, kind string) ([]T, *string) {
	start := 0
	for start < len(items) && seqOf(items[start]) <= after {
		start++
	}
	end := min(start+size, len(items))
	page := append([]T{}, items[start:end]...)
	if end == len(items) {
		return page, nil
	}
	next := encodeCursor(kind, seqOf(items[end-1]))
	return page, &next
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newRequestID returns a UUID v4 like Smile's requestId.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newAccessToken returns a long opaque token of three dot-separated
// base64url segments, the shape smile-api.md §4.4 describes.
func newAccessToken() string {
	seg := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return seg(27) + "." + seg(96) + "." + seg(48)
}
