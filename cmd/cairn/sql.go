package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/procedures"
	"github.com/cairndb/cairn/server"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/sqle"
)

func newSQLCmd() *cobra.Command {
	cmd := newCmd("sql [-q QUERY] [-r tabular|csv|json] [--data-dir DIR]", "run SQL on the local databases")
	cmd.Long = `Sql runs SQL statements on the databases in the data directory (the current
directory by default) without a server: those given with -q, else a script
read from standard input (statements end with ';', or the delimiter a
DELIMITER line sets, as in the mysql client).

If the data directory is itself a database, it is the current database and
the databases below it are reachable too. Results print as tables, or as CSV
or JSON with -r. The first failing statement stops the run with an error.`
	cmd.Example = "  cairn sql -q 'SELECT * FROM t LIMIT 10'\n  cairn sql < dump.sql"
	q := cmd.Flags().StringP("query", "q", "", "the statements to run")
	format := cmd.Flags().StringP("result-format", "r", "tabular", "output format: tabular, csv or json")
	dataDir := cmd.Flags().String("data-dir", ".", "the data directory")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		// Tables need every row for their widths; CSV and JSON stream.
		var newWriter func(io.Writer) rowWriter
		switch *format {
		case "tabular":
			newWriter = func(w io.Writer) rowWriter { return &tabularWriter{w: w} }
		case "csv":
			newWriter = func(w io.Writer) rowWriter { return &csvWriter{w: w} }
		case "json":
			newWriter = func(w io.Writer) rowWriter { return &jsonWriter{w: w} }
		default:
			return usageError(fmt.Sprintf("unknown result format %q (want tabular, csv or json)", *format))
		}
		dir, err := filepath.Abs(*dataDir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		e, err := sqle.NewEngine(cmd.Context(), sqle.Options{Dir: dir})
		if err != nil {
			return err
		}
		defer e.Close()
		(&procedures.Backups{Prov: e.Provider}).Register()
		(&procedures.VersionControl{Prov: e.Provider}).Register()
		current := ""
		if dbdir.IsDatabase(dir) {
			current = filepath.Base(dir)
		}
		e.UseLocalRoot()
		sctx := e.NewContext(cmd.Context(), current)
		out := cmd.OutOrStdout()
		exec := func(stmt string, line int) error {
			rw := newWriter(out)
			started := false
			_, err := e.QueryEach(sctx, stmt, func(cols []sqle.ResultColumn) error {
				var rc []resultColumn
				for _, c := range cols {
					rc = append(rc, resultColumn{name: c.Name, numeric: c.Numeric})
				}
				started = true
				return rw.begin(rc)
			}, rw.row)
			if err == nil && started {
				err = rw.end()
			}
			err = mysqlError(err, stmt, sctx.GetCurrentDatabase())
			if err != nil && line > 0 {
				return fmt.Errorf("line %d: %w", line, err)
			}
			return err
		}
		if cmd.Flags().Changed("query") {
			return splitStatements(strings.NewReader(*q), func(stmt string, _ int) error { return exec(stmt, 0) })
		}
		return splitStatements(cmd.InOrStdin(), exec)
	}
	return cmd
}

// mysqlError returns a statement's error as MySQL reports it, with its
// number and SQLSTATE as the mysql client prints them.
func mysqlError(err error, stmt, db string) error {
	if err == nil {
		return nil
	}
	var se *mysql.SQLError
	if errors.As(server.MapErrorIn(err, server.ErrorContext{Query: stmt, DB: db}), &se) {
		return fmt.Errorf("ERROR %d (%s): %s", se.Num, se.State, se.Message)
	}
	return err
}
