package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/server"
)

func newSQLServerCmd() *cobra.Command {
	cmd := newCmd("sql-server [-H HOST] [-P PORT] [--data-dir DIR] [-u USER] [-p PASSWORD] [--max-connections N]",
		"serve the databases of a data directory over the MySQL protocol")
	cmd.Long = `Sql-server serves every database of the data directory (the current directory
by default) to MySQL clients until it is interrupted (SIGINT or SIGTERM), then
lets running statements finish and closes the databases.

Users and grants are kept in DATA_DIR/.cairn. On the first start the superuser
is --user (root) with --password (empty), allowed from localhost.`
	cmd.Example = "  cairn sql-server --data-dir /var/lib/cairn -P 3306"
	var cfg server.Config
	cmd.Flags().StringVarP(&cfg.Host, "host", "H", server.DefaultHost, "the address to listen on")
	cmd.Flags().IntVarP(&cfg.Port, "port", "P", server.DefaultPort, "the TCP port to listen on")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", ".", "the data directory")
	cmd.Flags().StringVarP(&cfg.User, "user", "u", server.DefaultUser, "the superuser made on first start")
	cmd.Flags().StringVarP(&cfg.Password, "password", "p", "", "the superuser's password on first start")
	cmd.Flags().Uint64Var(&cfg.MaxConnections, "max-connections", 0, "the most connections at once (0: no limit)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if cfg.Port < 0 || cfg.Port > 65535 {
			return usageError(fmt.Sprintf("port %d is not a TCP port", cfg.Port))
		}
		return server.Run(cmd.Context(), cfg, func(addr string) {
			fmt.Fprintf(cmd.OutOrStdout(), "cairn sql-server listening on %s (data directory %s)\n", addr, cfg.DataDir)
		})
	}
	return cmd
}
