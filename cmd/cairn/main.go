// Command cairn is the cairn database: for now a demonstration of its
// versioned storage core and the making of databases; the SQL server and the
// version-control and backup commands arrive with later issues.
//
// Each command group is a file here, thin: it parses its arguments, calls
// the storage packages, and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is the cairn release; builds may override it with -ldflags.
var Version = "0.1.0-dev"

// usageError is an error in how a command was called, found by the command
// itself: it prints with the command's usage hint, as cobra's own errors in
// flags and arguments do.
type usageError string

func (e usageError) Error() string { return string(e) }

func main() {
	// The first SIGINT or SIGTERM ends the context, so a command can stop
	// cleanly (sql-server lets running statements finish); a second one
	// exits at once.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		s := <-sigs
		fmt.Fprintf(os.Stderr, "cairn: second signal (%v): exiting at once\n", s)
		os.Exit(130)
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(code)
}

// run runs the command line args and returns the process's exit code: 0, or
// 1 after printing "error: …" on stderr, followed by a usage hint if the
// command was called wrongly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	// Errors before a command's RunE starts (unknown commands and flags,
	// wrong argument counts) are cobra's, and all usage errors.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	if len(args) == 0 {
		fmt.Fprintln(stderr, "error: no command given")
		printUsageHint(stderr, root)
		return 1
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	var ue usageError
	if !started || errors.As(err, &ue) {
		printUsageHint(stderr, cmd)
	}
	return 1
}

// newRootCmd returns the cairn command with every subcommand.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "cairn is a MySQL-compatible database with git-style history",
		Long: "cairn is a MySQL-compatible database over a content-addressed, versioned store.\n" +
			"Each command works in a database directory, like git.",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	// Defined here so that cobra gives it no -v, which subcommands use.
	root.Flags().Bool("version", false, "print the version")
	root.SetVersionTemplate("cairn version {{.Version}}\n")
	root.AddCommand(
		newBackupCmd(),
		newDemoCmd(),
		newDumpCmd(),
		newInitCmd(),
		newSQLCmd(),
		newSQLServerCmd(),
		newVersionCmd(),
	)
	root.AddCommand(newVCCmds()...)
	root.AddCommand(newRemoteCmds()...)
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.Short = "print help about a command"
		}
	}
	return root
}

// printUsageHint prints how to call cmd: its usage line and first example,
// or for cairn itself the list of commands.
func printUsageHint(w io.Writer, cmd *cobra.Command) {
	if cmd == nil {
		return
	}
	if !cmd.HasParent() {
		fmt.Fprintln(w, "usage: cairn COMMAND [ARGS]\n\ncommands:")
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-10s %s\n", c.Name(), c.Short)
			}
		}
		fmt.Fprintln(w, "\nRun 'cairn COMMAND --help' for more about a command.")
		return
	}
	fmt.Fprintln(w, "usage:", cmd.UseLine())
	if ex, _, _ := strings.Cut(strings.TrimSpace(cmd.Example), "\n"); ex != "" {
		fmt.Fprintln(w, "  e.g.", ex)
	}
	fmt.Fprintf(w, "Run '%s --help' for more.\n", cmd.CommandPath())
}

// noArgs is cobra.NoArgs, with a message that does not call the argument a
// command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// newCmd returns a command with the settings every cairn command shares: its
// usage line is Use as written, flags included, and it takes no arguments
// unless it sets Args.
func newCmd(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: noArgs, DisableFlagsInUseLine: true}
}
