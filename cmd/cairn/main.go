// Command cairn is the cairn database: for now a demonstration of its
// versioned storage core; the SQL server and the version-control and backup
// commands arrive with later issues.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Version is the cairn release; builds may override it with -ldflags.
var Version = "0.1.0-dev"

// command is one subcommand: it parses its own flags and does its work.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = []command{
	{"demo", "write and commit rows in a demonstration database", runDemo},
	{"version", "print the version", runVersion},
}

// usageError is an error in how a command was called; its message says how
// to call it.
type usageError string

func (e usageError) Error() string { return string(e) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cairn:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return usageError("no command given")
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:])
		}
	}
	usage()
	return fmt.Errorf("unknown command %q (try: cairn demo)", args[0])
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cairn COMMAND [ARGS]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
}

func runVersion(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usageError("usage: cairn version")
	}
	fmt.Println("cairn version", Version)
	return nil
}
