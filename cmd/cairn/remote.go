package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/procedures"
	"github.com/cairndb/cairn/server"
	"github.com/cairndb/cairn/storage/remote"
	"github.com/cairndb/cairn/storage/sqle"
)

// cairn remote, push, fetch, pull and clone: the dolt_remote, dolt_push,
// dolt_fetch, dolt_pull and dolt_clone procedures, on the files or through
// the server that holds them.

func newRemoteCmds() []*cobra.Command {
	rem := vcCommand("remote [-v] | remote add NAME URL | remote remove|rm NAME", "list, add or remove remotes", nil)
	rem.Args = cobra.ArbitraryArgs
	verbose := rem.Flags().BoolP("verbose", "v", false, "list remotes with their URL")
	rem.RunE = vcRunE(func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		if len(args) == 0 {
			rows, err := r.query(ctx, "SELECT name, url FROM dolt_remotes ORDER BY name")
			if err != nil {
				return err
			}
			for _, row := range rows {
				if *verbose {
					fmt.Fprintf(out, "%s %s\n", str(row[0]), str(row[1]))
				} else {
					fmt.Fprintln(out, str(row[0]))
				}
			}
			return nil
		}
		switch args[0] {
		case "add":
			if len(args) != 3 {
				return usageError("remote add takes NAME and URL")
			}
			// Relative file:// URLs are relative to the shell's directory.
			cwd, err := os.Getwd()
			if err != nil {
				return err
			}
			u, err := remote.NormalizeURL(args[2], cwd)
			if err != nil {
				return err
			}
			_, err = r.call(ctx, "dolt_remote", "add", args[1], u)
			return err
		case "remove", "rm":
			if len(args) != 2 {
				return usageError("remote remove takes NAME")
			}
			_, err := r.call(ctx, "dolt_remote", "remove", args[1])
			return err
		}
		return usageError(fmt.Sprintf("unknown remote command %q (want add or remove)", args[0]))
	})

	passThrough := func(use, short, proc string, print func(out io.Writer, rows [][]*string)) *cobra.Command {
		cmd := vcCommand(use, short, func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
			rows, err := r.call(ctx, proc, args...)
			if err != nil {
				return err
			}
			print(out, rows)
			return nil
		})
		cmd.Args = cobra.ArbitraryArgs
		cmd.DisableFlagParsing = true
		return cmd
	}
	push := passThrough("push [-u|--set-upstream] [-f|--force] [--all] [REMOTE [REFSPEC…]]", "push branches to a remote", "dolt_push", func(out io.Writer, rows [][]*string) {
		if len(rows) == 1 && len(rows[0]) == 2 {
			fmt.Fprintln(out, str(rows[0][1]))
		}
	})
	fetch := passThrough("fetch [REMOTE [BRANCH…]] [--prune]", "fetch a remote's branches", "dolt_fetch", func(io.Writer, [][]*string) {})
	pull := passThrough("pull [REMOTE [BRANCH]] [--ff-only] [--no-ff]", "fetch and merge into the current branch", "dolt_pull", func(out io.Writer, rows [][]*string) {
		if len(rows) == 1 && len(rows[0]) == 3 {
			if str(rows[0][0]) == "1" {
				fmt.Fprintln(out, "Fast-forward")
			}
			fmt.Fprintln(out, str(rows[0][2]))
		}
	})
	return []*cobra.Command{rem, push, fetch, pull, newCloneCmd()}
}

func newCloneCmd() *cobra.Command {
	cmd := newCmd("clone [-b BRANCH] [--remote NAME] URL [DIR]", "make a database from a remote (or a backup)")
	cmd.Long = `Clone makes database DIR (by default the last part of URL) in the current
directory from the remote at URL: its branches as remote-tracking branches, its
tags, and a local branch (the remote's main, or -b) tracking the remote's. When
a cairn sql-server holds the current directory as its data directory, the clone
is made there, as CALL dolt_clone, and served at once.`
	cmd.Args = cobra.RangeArgs(1, 2)
	branch := cmd.Flags().StringP("branch", "b", "", "the branch to check out (default: the remote's main)")
	remoteName := cmd.Flags().String("remote", "origin", "the name of the remote")
	f := &vcFlags{}
	f.add(cmd)
	cmd.RunE = func(c *cobra.Command, args []string) error {
		cwd, err := os.Getwd()
		if err != nil {
			return err
		}
		u, err := remote.NormalizeURL(args[0], cwd)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(strings.TrimSuffix(u, "/")), ".git")
		if len(args) == 2 {
			name = args[1]
		}
		procArgs := []string{u, name}
		if *branch != "" {
			procArgs = append(procArgs, "-b", *branch)
		}
		if *remoteName != "origin" {
			procArgs = append(procArgs, "--remote", *remoteName)
		}
		out := c.OutOrStdout()
		if l, ok := server.Running(cwd); ok {
			user, password := f.user, f.password
			if user == "" {
				user = os.Getenv(envUser)
			}
			if password == "" {
				password = os.Getenv(envPassword)
			}
			db, addr, err := connectServer(&l, user, password, "")
			if err != nil {
				return err
			}
			defer db.Close()
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(procArgs)), ", ")
			vals := make([]any, len(procArgs))
			for i, a := range procArgs {
				vals[i] = a
			}
			if _, err := db.ExecContext(c.Context(), "CALL dolt_clone("+marks+")", vals...); err != nil {
				return serverError(err, addr, &l)
			}
			fmt.Fprintf(out, "Cloned %s into database %s %s\n", u, name, viaServer(&l))
			return nil
		}
		e, err := sqle.NewEngine(c.Context(), sqle.Options{Dir: cwd})
		if err != nil {
			return err
		}
		defer e.Close()
		e.UseLocalRoot()
		ctx := e.NewContext(c.Context(), "")
		if err := procedures.Clone(ctx, e.Provider, u, name, *branch, *remoteName, nil, newProgressLine(c.ErrOrStderr()).report); err != nil {
			return err
		}
		fmt.Fprintf(out, "Cloned %s into %s\n", u, filepath.Join(cwd, name))
		return nil
	}
	return cmd
}
