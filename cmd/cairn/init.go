package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/spf13/cobra"
)

// Environment variables that name the author of commits when no flag does.
const (
	envUserName  = "CAIRN_USER_NAME"
	envUserEmail = "CAIRN_USER_EMAIL"
)

func newInitCmd() *cobra.Command {
	cmd := newCmd("init [--name NAME] [--email EMAIL]", "make the current directory a database")
	cmd.Long = `Init makes the current directory a database, named after the directory, with
the branch main holding an initial commit.

The commit's author is --name and --email, else $` + envUserName + ` and
$` + envUserEmail + `, else your user name on this system and NAME@localhost.`
	cmd.Example = "  cairn init --name 'Ada Lovelace' --email ada@example.com"
	name := cmd.Flags().String("name", "", "the author's name for the initial commit")
	email := cmd.Flags().String("email", "", "the author's email for the initial commit")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		dir, err := os.Getwd()
		if err != nil {
			return err
		}
		dbName := filepath.Base(dir)
		if err := dbdir.CheckName(dbName); err != nil {
			return err
		}
		n, e := author(*name, *email, os.Getenv, osUserName)
		err = dbdir.Init(cmd.Context(), dir, repo.InitOptions{Name: n, Email: e})
		if errors.Is(err, repo.ErrAlreadyInitialized) {
			return errors.New("this directory is already a cairn database")
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "Successfully initialized cairn database '%s' on branch %s.\n", dbName, repo.DefaultBranch)
		return err
	}
	return cmd
}

// author returns the name and email that sign commits: those given, else
// those in the environment, else the system user's name and NAME@localhost.
func author(name, email string, getenv func(string) string, sysUser func() string) (string, string) {
	if name == "" {
		name = getenv(envUserName)
	}
	if email == "" {
		email = getenv(envUserEmail)
	}
	if name == "" || email == "" {
		u := sysUser()
		if name == "" {
			name = u
		}
		if email == "" {
			email = u + "@localhost"
		}
	}
	return name, email
}

// osUserName returns the login name of the user running cairn, without a
// Windows domain, or "cairn" if it cannot be found.
func osUserName() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = os.Getenv("USERNAME")
	}
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" {
		return "cairn"
	}
	return name
}
