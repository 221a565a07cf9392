package main

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// bareReceiver serves a Fiber handler that answers every POST with 200 and does
// nothing else: the ceiling the ingest benchmark compares smiledash against.
func bareReceiver(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "bare-receiver", "bare-receiver [--addr A]")
	addr := fs.String("addr", "127.0.0.1:18181", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/*", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.SendString(`{"status":"stored"}`)
	})
	go func() {
		<-ctx.Done()
		_ = app.Shutdown()
	}()
	fmt.Fprintf(e.stdout, "bare receiver on %s\n", *addr)
	return app.Listen(*addr)
}
