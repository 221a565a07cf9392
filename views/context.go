package views

import (
	"context"
	"encoding/json"
)

type signedInKey struct{}

// SignedIn is who signed in to the request being rendered. Handlers put it in
// the request context, so components rendered without a LayoutVM (htmx
// fragments) can still add the CSRF field or hide admin-only actions.
type SignedIn struct {
	Email     string
	Role      string
	CSRFToken string
}

// WithSignedIn returns ctx carrying who signed in.
func WithSignedIn(ctx context.Context, s SignedIn) context.Context {
	return context.WithValue(ctx, signedInKey{}, s)
}

// SignedInFrom returns who signed in to the request, or the zero SignedIn.
func SignedInFrom(ctx context.Context) SignedIn {
	s, _ := ctx.Value(signedInKey{}).(SignedIn)
	return s
}

// CSRFToken is the signed-in session's CSRF token, for forms built outside
// AdminLayout. Prefer the CSRFField component.
func CSRFToken(ctx context.Context) string { return SignedInFrom(ctx).CSRFToken }

// CanChange reports whether the signed-in account may change things (role
// admin); viewers are read-only, so forms that change state are hidden from them.
func CanChange(ctx context.Context) bool { return SignedInFrom(ctx).Role == "admin" }

// csrfHeaders is the hx-headers value that makes every htmx request carry the
// CSRF token.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

type sandboxKey struct{}

// WithSandbox returns ctx marked as rendered in sandbox mode, where Smile is
// simulated; empty states then give sandbox advice.
func WithSandbox(ctx context.Context, sandbox bool) context.Context {
	return context.WithValue(ctx, sandboxKey{}, sandbox)
}

// SandboxFrom reports whether the request is rendered in sandbox mode.
func SandboxFrom(ctx context.Context) bool {
	b, _ := ctx.Value(sandboxKey{}).(bool)
	return b
}
