// Command smiledash is the control room for a Smile API integration: it receives
// and projects Smile's webhooks, serves the connect page that embeds the Wink
// Widget, and the admin dashboard. See the README for commands and configuration.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "smiledash:", err)
		os.Exit(1)
	}
}

// env bundles what a command reads from its process, so tests can supply it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	getenv func(string) string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	e := env{stdin: stdin, stdout: stdout, getenv: getenv}
	cmd, rest := "serve", args
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, e, rest)
	case "migrate":
		return migrate(ctx, e, rest)
	case "reproject":
		return reproject(ctx, e, rest)
	case "simulate":
		return simulateCommand(ctx, e, rest)
	case "admin":
		return adminCommand(ctx, e, rest)
	case "link":
		return linkCommand(ctx, e, rest)
	case "user":
		return userCommand(ctx, e, rest) // erase.go
	case "bare-receiver":
		return bareReceiver(ctx, e, rest)
	case "healthcheck":
		return healthcheck(ctx, e, rest)
	case "version":
		fmt.Fprintln(stdout, "smiledash", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", cmd, usage)
}

const usage = `Usage: smiledash [command] [flags]

Commands:
  serve                     run the server (the default; applies migrations first)
  migrate [up|status]       apply or show database migrations
  reproject                 rebuild all projections from the stored events
  simulate --url U --secret S [flags]
                            send realistic signed Smile webhooks; also the load generator
  admin create --email E    create an admin (password from --password or standard input)
  admin token create|list|revoke
                            manage bearer tokens for the read-only /api/v1
  link create --ref REF     create a connect link for an end user
  user erase --id U [--revoke-at-smile] [--yes]
                            erase everything stored about one end user
  bare-receiver [--addr A]  a Fiber handler that only answers 200 (the benchmark's baseline)
  healthcheck [--url U]     exit 0 if the server's /healthz answers (for containers)
  version                   print the version

Every command reads the same configuration (environment variables, see the README);
run "smiledash serve -h" for the flags.
`
