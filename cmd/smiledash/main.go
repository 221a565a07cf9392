// Command smiledash is the control room for a Smile API integration: it receives
// and projects Smile's webhooks, serves the connect page that embeds the Wink
// Widget, and the admin dashboard. See the README for commands and configuration.
package main

import (
	"context"
	"errors"
	"flag"
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
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for a command line that could not be understood (as the flag
// package does), 1 for anything else that failed.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// usageError is a command line smiledash cannot understand: an unknown command
// or subcommand. Its message includes the usage to follow.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// newFlagSet is the flag set of one command. Parse errors are returned, not
// exited on; -h, -help and --help print "Usage: smiledash SYNOPSIS" and the
// flags to standard output, and run turns the resulting flag.ErrHelp into
// success.
func newFlagSet(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: smiledash %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// isHelpArg reports whether arg asks for help.
func isHelpArg(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// helpRequested reports whether any of args asks for help, for commands that
// take no flags of their own.
func helpRequested(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// env bundles what a command reads from its process, so tests can supply it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	getenv func(string) string
}

// run runs the command line args. "smiledash", "smiledash --help" and
// "smiledash help" list the commands; "smiledash help CMD" and
// "smiledash CMD --help" print that command's flags; all of these succeed.
func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	e := env{stdin: stdin, stdout: stdout, getenv: getenv}
	if len(args) > 0 && isHelpArg(args[0]) {
		if len(args) > 1 && !isHelpArg(args[1]) {
			return run(ctx, []string{args[1], "--help"}, stdin, stdout, getenv)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	err := runCommand(ctx, e, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, e env, args []string) error {
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
		if helpRequested(rest) {
			fmt.Fprintln(e.stdout, "Usage: smiledash version")
			return nil
		}
		fmt.Fprintln(e.stdout, "smiledash", version)
		return nil
	}
	return usageErrorf("unknown command %q\n\n%s", cmd, usage)
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

Every command reads the same configuration (environment variables, see the README).
Run "smiledash COMMAND --help" (or "smiledash help COMMAND") for a command's flags;
"smiledash serve --help" lists every setting.
`
