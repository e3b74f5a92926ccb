package main

import (
	"context"
	gosql "database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/procedures"
	"github.com/cairndb/cairn/server"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/sqle"
)

// The version-control commands (status, add, commit, log, branch, checkout,
// reset, tag, merge, diff) run in a database directory. Each is SQL: the
// dolt_* procedures and system tables, run in this process on the files, or
// in the running server that holds them.

// vcRunner runs SQL for a version-control command.
type vcRunner struct {
	name string // the database
	srv  *server.Lock

	e    *sqle.Engine // on the files
	sctx *sql.Context

	conn *gosql.Conn // in the server
	pool *gosql.DB
	addr string
}

// vcFlags are the credentials for a running server.
type vcFlags struct{ user, password string }

func (f *vcFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.user, "user", "u", "", "user for a running server (default $"+envUser+", else root)")
	cmd.Flags().StringVarP(&f.password, "password", "p", "", "password for a running server (default $"+envPassword+")")
}

func openRunner(ctx context.Context, f *vcFlags) (*vcRunner, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	name, srv, err := findDatabase(cwd)
	if err != nil {
		return nil, err
	}
	r := &vcRunner{name: name, srv: srv}
	if srv != nil {
		user, password := f.user, f.password
		if user == "" {
			user = os.Getenv(envUser)
		}
		if password == "" {
			password = os.Getenv(envPassword)
		}
		if r.pool, r.addr, err = connectServer(srv, user, password, name); err != nil {
			return nil, err
		}
		if r.conn, err = r.pool.Conn(ctx); err != nil {
			r.pool.Close()
			return nil, serverError(err, r.addr, srv)
		}
		return r, nil
	}
	if r.e, err = sqle.NewEngine(ctx, sqle.Options{Dir: cwd}); err != nil {
		return nil, err
	}
	(&procedures.Backups{Prov: r.e.Provider}).Register()
	(&procedures.VersionControl{Prov: r.e.Provider, Progress: newProgressLine(os.Stderr).report}).Register()
	r.e.UseLocalRoot()
	r.sctx = r.e.NewContext(ctx, name)
	return r, nil
}

func (r *vcRunner) close() {
	if r.e != nil {
		r.e.Close()
	}
	if r.conn != nil {
		r.conn.Close()
		r.pool.Close()
	}
}

// query runs q and returns its rows, NULL as nil.
func (r *vcRunner) query(ctx context.Context, q string) ([][]*string, error) {
	if r.e != nil {
		res, err := r.e.Query(r.sctx, q)
		if err != nil {
			return nil, mysqlMessage(err, q, r.name)
		}
		return res.Rows, nil
	}
	rows, err := r.conn.QueryContext(ctx, q)
	if err != nil {
		return nil, serverError(err, r.addr, r.srv)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]*string
	for rows.Next() {
		vals := make([]gosql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			if v.Valid {
				s := v.String
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	return out, serverError(rows.Err(), r.addr, r.srv)
}

// mysqlMessage is a local statement's error as the server would send it.
func mysqlMessage(err error, stmt, db string) error {
	if err == nil {
		return nil
	}
	msg := mysqlError(err, stmt, db).Error()
	if i := strings.Index(msg, "): "); strings.HasPrefix(msg, "ERROR ") && i > 0 {
		msg = msg[i+3:]
	}
	return errors.New(msg)
}

// call runs CALL proc(args…) and returns its rows.
func (r *vcRunner) call(ctx context.Context, proc string, args ...string) ([][]*string, error) {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = sqlString(a)
	}
	return r.query(ctx, "CALL "+proc+"("+strings.Join(quoted, ", ")+")")
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// vcCommand makes a version-control command whose run gets a runner.
func vcCommand(use, short string, run func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error) *cobra.Command {
	cmd := newCmd(use, short)
	(&vcFlags{}).add(cmd)
	if run != nil {
		cmd.RunE = vcRunE(run)
	}
	return cmd
}

// vcRunE returns a RunE that opens the runner of the current directory's
// database (through its server, with the command's --user and --password)
// and calls run.
func vcRunE(run func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		f := &vcFlags{}
		f.user, _ = c.Flags().GetString("user")
		f.password, _ = c.Flags().GetString("password")
		r, err := openRunner(c.Context(), f)
		if err != nil {
			return err
		}
		defer r.close()
		return run(c.Context(), r, args, c.OutOrStdout())
	}
}

func newVCCmds() []*cobra.Command {
	status := vcCommand("status", "show the working set's changes", runStatus)

	add := vcCommand("add TABLE…|.", "stage tables for the next commit", func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		_, err := r.call(ctx, "dolt_add", args...)
		return err
	})
	add.Args = cobra.ArbitraryArgs
	add.DisableFlagParsing = false

	commit := newCommitCmd()

	logCmd := newLogCmd()

	branch := newBranchCmd()

	checkout := newCheckoutCmd()

	reset := vcCommand("reset [--hard|--soft] [REV] | reset TABLE…", "unstage tables, or move the branch to a revision", func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		_, err := r.call(ctx, "dolt_reset", args...)
		return err
	})
	reset.Args = cobra.ArbitraryArgs
	reset.DisableFlagParsing = true

	tag := vcCommand("tag [NAME [REV]] [-m MSG] | tag -d NAME", "list, create or delete tags", func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		if len(args) == 0 {
			rows, err := r.query(ctx, "SELECT tag_name FROM dolt_tags ORDER BY tag_name")
			if err != nil {
				return err
			}
			for _, row := range rows {
				fmt.Fprintln(out, str(row[0]))
			}
			return nil
		}
		_, err := r.call(ctx, "dolt_tag", args...)
		return err
	})
	tag.Args = cobra.ArbitraryArgs
	tag.DisableFlagParsing = true

	merge := vcCommand("merge [--no-ff] [--ff-only] [-m MSG] BRANCH", "merge a branch into the current one", func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		rows, err := r.call(ctx, "dolt_merge", args...)
		if err != nil {
			return err
		}
		if len(rows) == 1 && len(rows[0]) == 4 {
			switch {
			case str(rows[0][1]) == "1":
				fmt.Fprintf(out, "Fast-forward to %s\n", str(rows[0][0]))
			case str(rows[0][0]) != "":
				fmt.Fprintf(out, "Merge made: commit %s\n", str(rows[0][0]))
			default:
				fmt.Fprintln(out, str(rows[0][3]))
			}
		}
		return nil
	})
	merge.Args = cobra.ArbitraryArgs
	merge.DisableFlagParsing = true

	diff := vcCommand("diff [REV [REV]] [TABLE…]", "show row changes: the working set against the head, against REV, or between two revisions", runDiff)
	diff.Args = cobra.ArbitraryArgs

	gc := vcCommand("gc", "collect the database's garbage now: chunks no ref reaches", func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		_, err := r.call(ctx, "dolt_gc")
		return err
	})

	return []*cobra.Command{status, add, commit, logCmd, branch, checkout, reset, tag, merge, diff, gc}
}

func runStatus(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
	b, err := r.query(ctx, "SELECT active_branch()")
	if err != nil {
		return err
	}
	rows, err := r.query(ctx, "SELECT table_name, staged, status FROM dolt_status")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "On branch %s\n", str(b[0][0]))
	var staged, unstaged, untracked []string
	for _, row := range rows {
		line := fmt.Sprintf("\t%-18s%s", str(row[2])+":", str(row[0]))
		switch {
		case str(row[1]) == "1" || str(row[1]) == "true":
			staged = append(staged, line)
		case str(row[2]) == "new table":
			untracked = append(untracked, line)
		default:
			unstaged = append(unstaged, line)
		}
	}
	section := func(title string, hints []string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(out, "\n%s\n", title)
		for _, h := range hints {
			fmt.Fprintf(out, "  (%s)\n", h)
		}
		for _, l := range lines {
			fmt.Fprintln(out, l)
		}
	}
	section("Changes to be committed:", []string{`use "cairn reset <table>..." to unstage`}, staged)
	section("Changes not staged for commit:", []string{`use "cairn add <table>" to update what will be committed`, `use "cairn checkout <table>" to discard changes in working directory`}, unstaged)
	section("Untracked tables:", []string{`use "cairn add <table>" to include in what will be committed`}, untracked)
	if len(rows) == 0 {
		fmt.Fprintln(out, "nothing to commit, working tree clean")
	}
	return nil
}

func newCommitCmd() *cobra.Command {
	cmd := vcCommand("commit [-a|-A] -m MSG [--allow-empty] [--author 'NAME <EMAIL>'] [--date DATE]", "record the staged changes as a commit", nil)
	var msg, author, date string
	var all, allNew, allowEmpty bool
	cmd.Flags().StringVarP(&msg, "message", "m", "", "the commit message")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "stage changed and deleted tables first (not new ones)")
	cmd.Flags().BoolVarP(&allNew, "ALL", "A", false, "stage everything first, new tables too")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "commit even if nothing changed")
	cmd.Flags().StringVar(&author, "author", "", "the author, 'NAME <EMAIL>'")
	cmd.Flags().StringVar(&date, "date", "", "the commit's date")
	cmd.RunE = vcRunE(func(ctx context.Context, r *vcRunner, _ []string, out io.Writer) error {
		var args []string
		if cmd.Flags().Changed("message") {
			args = append(args, "-m", msg)
		}
		if all {
			args = append(args, "-a")
		}
		if allNew {
			args = append(args, "-A")
		}
		if allowEmpty {
			args = append(args, "--allow-empty")
		}
		if author == "" && r.e != nil {
			// On the files, the author is yours (as for cairn init);
			// through a server, the SQL user.
			n, e := authorOf("", "")
			author = n + " <" + e + ">"
		}
		if author != "" {
			args = append(args, "--author", author)
		}
		if date != "" {
			args = append(args, "--date", date)
		}
		if _, err := r.call(ctx, "dolt_commit", args...); err != nil {
			return err
		}
		return printLog(ctx, r, out, 1, false)
	})
	return cmd
}

func newLogCmd() *cobra.Command {
	cmd := vcCommand("log [-n N] [--oneline]", "show the history of the current branch", nil)
	n := cmd.Flags().IntP("number", "n", 0, "show only the newest N commits")
	oneline := cmd.Flags().Bool("oneline", false, "one line per commit")
	cmd.RunE = vcRunE(func(ctx context.Context, r *vcRunner, _ []string, out io.Writer) error {
		return printLog(ctx, r, out, *n, *oneline)
	})
	return cmd
}

// printLog prints the newest n commits (all if n is 0) as git log does.
func printLog(ctx context.Context, r *vcRunner, out io.Writer, n int, oneline bool) error {
	q := "SELECT commit_hash, committer, email, date, message FROM dolt_log"
	if n > 0 {
		q += fmt.Sprintf(" LIMIT %d", n)
	}
	rows, err := r.query(ctx, q)
	if err != nil {
		return err
	}
	decor, err := decorations(ctx, r)
	if err != nil {
		return err
	}
	for i, row := range rows {
		h := str(row[0])
		d := decor[h]
		if i == 0 {
			b, err := r.query(ctx, "SELECT active_branch()")
			if err == nil && b[0][0] != nil {
				d = append([]string{"HEAD -> " + *b[0][0]}, remove(d, *b[0][0])...)
			}
		}
		ds := ""
		if len(d) > 0 {
			ds = " (" + strings.Join(d, ", ") + ")"
		}
		if oneline {
			fmt.Fprintf(out, "%s%s %s\n", h, ds, firstLine(str(row[4])))
			continue
		}
		date := str(row[3])
		if t, err := time.Parse("2006-01-02 15:04:05", date); err == nil {
			date = t.Format("Mon Jan 02 15:04:05 -0700 2006")
		}
		fmt.Fprintf(out, "commit %s%s\nAuthor: %s <%s>\nDate:  %s\n\n", h, ds, str(row[1]), str(row[2]), date)
		for _, l := range strings.Split(str(row[4]), "\n") {
			fmt.Fprintf(out, "\t%s\n", l)
		}
		fmt.Fprintln(out)
	}
	return nil
}

// decorations returns, by commit hash, the branches and tags at it.
func decorations(ctx context.Context, r *vcRunner) (map[string][]string, error) {
	out := map[string][]string{}
	rows, err := r.query(ctx, "SELECT name, hash FROM dolt_branches ORDER BY name")
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		out[str(row[1])] = append(out[str(row[1])], str(row[0]))
	}
	rows, err = r.query(ctx, "SELECT tag_name, tag_hash FROM dolt_tags ORDER BY tag_name")
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		out[str(row[1])] = append(out[str(row[1])], "tag: "+str(row[0]))
	}
	return out, nil
}

func remove(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func newBranchCmd() *cobra.Command {
	cmd := vcCommand("branch [-a] | branch NAME [START] | branch -d|-D NAME… | branch -m|-c OLD NEW", "list, create, rename, copy or delete branches", nil)
	cmd.Args = cobra.ArbitraryArgs
	all := cmd.Flags().BoolP("all", "a", false, "list remote-tracking branches too")
	del := cmd.Flags().BoolP("delete", "d", false, "delete branches (merged ones only)")
	force := cmd.Flags().BoolP("force", "f", false, "with -d, -m or -c: even if unmerged or taken")
	delForce := cmd.Flags().BoolP("D", "D", false, "delete branches, merged or not")
	move := cmd.Flags().BoolP("move", "m", false, "rename branch OLD to NEW")
	cp := cmd.Flags().BoolP("copy", "c", false, "copy branch OLD to NEW")
	cmd.RunE = vcRunE(func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		var pargs []string
		switch {
		case *del || *delForce:
			pargs = append([]string{"-d"}, args...)
			if *delForce || *force {
				pargs = append([]string{"-D"}, args...)
			}
		case *move:
			pargs = append([]string{"-m"}, args...)
		case *cp:
			pargs = append([]string{"-c"}, args...)
		case len(args) > 0:
			pargs = args
		}
		if pargs != nil {
			if *force && !*delForce && !*del {
				pargs = append(pargs, "-f")
			}
			_, err := r.call(ctx, "dolt_branch", pargs...)
			return err
		}
		cur, err := r.query(ctx, "SELECT active_branch()")
		if err != nil {
			return err
		}
		rows, err := r.query(ctx, "SELECT name FROM dolt_branches ORDER BY name")
		if err != nil {
			return err
		}
		for _, row := range rows {
			mark := "  "
			if str(row[0]) == str(cur[0][0]) {
				mark = "* "
			}
			fmt.Fprintf(out, "%s%s\n", mark, str(row[0]))
		}
		if *all {
			if rows, err := r.query(ctx, "SELECT name FROM dolt_remote_branches ORDER BY name"); err == nil {
				for _, row := range rows {
					fmt.Fprintf(out, "  %s\n", str(row[0]))
				}
			}
		}
		return nil
	})
	return cmd
}

func newCheckoutCmd() *cobra.Command {
	cmd := vcCommand("checkout [-b] NAME [START] | checkout TABLE…", "switch the database's branch, or discard changes to tables", nil)
	cmd.Args = cobra.MinimumNArgs(1)
	create := cmd.Flags().BoolP("b", "b", false, "create branch NAME (at START, or the head) and switch to it")
	cmd.RunE = vcRunE(func(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
		if *create {
			if len(args) > 2 {
				return usageError("checkout -b takes NAME and an optional START")
			}
			if _, err := r.call(ctx, "dolt_branch", args...); err != nil {
				return err
			}
			if err := r.setHead(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(out, "Switched to a new branch '%s'\n", args[0])
			return nil
		}
		rows, err := r.query(ctx, "SELECT name FROM dolt_branches")
		if err != nil {
			return err
		}
		isBranch := false
		for _, row := range rows {
			if str(row[0]) == args[0] {
				isBranch = true
			}
		}
		if isBranch && len(args) == 1 {
			cur, err := r.query(ctx, "SELECT active_branch()")
			if err != nil {
				return err
			}
			if str(cur[0][0]) == args[0] {
				fmt.Fprintf(out, "Already on branch '%s'\n", args[0])
				return nil
			}
			if err := r.setHead(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(out, "Switched to branch '%s'\n", args[0])
			return nil
		}
		_, err = r.call(ctx, "dolt_checkout", args...)
		return err
	})
	return cmd
}

// setHead makes branch the database's checked-out branch: the one the CLI
// and new sessions of a server start on.
func (r *vcRunner) setHead(ctx context.Context, branch string) error {
	if r.e != nil {
		return r.e.Provider.SetDefaultBranch(ctx, r.name, branch)
	}
	// The running server sees the changed config at its next new
	// session; its open sessions keep the branch they are on.
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	c, err := dbdir.ReadConfig(cwd)
	if err != nil {
		return err
	}
	c.Head = branch
	if branch == "main" {
		c.Head = ""
	}
	return dbdir.WriteConfig(cwd, c)
}

func runDiff(ctx context.Context, r *vcRunner, args []string, out io.Writer) error {
	// Arguments that are tables of the working set name tables; the
	// others (at most two) are revisions: diff REV compares REV with the
	// working set, diff REV1 REV2 the two.
	names, err := r.query(ctx, "SHOW TABLES")
	if err != nil {
		return err
	}
	isTable := map[string]bool{}
	for _, n := range names {
		isTable[strings.ToLower(str(n[0]))] = true
	}
	var tables, revs []string
	for _, a := range args {
		if isTable[strings.ToLower(a)] {
			tables = append(tables, a)
		} else {
			revs = append(revs, a)
		}
	}
	from, to := "HEAD", "WORKING"
	switch len(revs) {
	case 0:
	case 1:
		from = revs[0]
	case 2:
		from, to = revs[0], revs[1]
	default:
		return usageError(fmt.Sprintf("diff takes at most two revisions; %q are not tables either", revs[2:]))
	}
	if len(tables) == 0 {
		for _, n := range names {
			tables = append(tables, str(n[0]))
		}
		sort.Strings(tables)
	}
	for _, t := range tables {
		rows, err := r.query(ctx, "SELECT * FROM dolt_diff("+sqlString(from)+", "+sqlString(to)+", "+sqlString(t)+")")
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			continue
		}
		cols, err := r.query(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = "+sqlString(t)+" ORDER BY ordinal_position")
		if err != nil {
			return err
		}
		n := len(cols)
		fmt.Fprintf(out, "diff --cairn a/%s b/%s\n", t, t)
		rc := []resultColumn{{name: ""}}
		for _, c := range cols {
			rc = append(rc, resultColumn{name: str(c[0])})
		}
		var lines [][]*string
		for _, row := range rows {
			to, from, kind := row[:n], row[n+2:2*n+2], str(row[len(row)-1])
			switch kind {
			case "added":
				lines = append(lines, append([]*string{ptr("+")}, to...))
			case "removed":
				lines = append(lines, append([]*string{ptr("-")}, from...))
			default:
				lines = append(lines, append([]*string{ptr("<")}, from...), append([]*string{ptr(">")}, to...))
			}
		}
		if err := printTabular(out, &resultSet{columns: rc, rows: lines}); err != nil {
			return err
		}
	}
	return nil
}

func ptr(s string) *string { return &s }

// authorOf returns the author of commits made on the files: the flags'
// name and email, else $CAIRN_USER_NAME and $CAIRN_USER_EMAIL, else the
// system user.
func authorOf(name, email string) (string, string) { return author(name, email, os.Getenv, osUserName) }
