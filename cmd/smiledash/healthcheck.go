package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// healthcheck asks a running server's /healthz, for container HEALTHCHECKs that
// have no curl. It exits non-zero unless the server answers 200.
func healthcheck(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "healthcheck", "healthcheck [--url U]")
	addr := e.getenv("SMILEDASH_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	url := fs.String("url", "http://127.0.0.1"+addr[strings.LastIndex(addr, ":"):]+"/healthz", "health URL to ask")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", *url, resp.StatusCode)
	}
	return nil
}
