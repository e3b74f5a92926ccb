package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairndb/cairn/server"
)

func newSQLServerCmd() *cobra.Command {
	cmd := newCmd("sql-server [--config FILE] [-H HOST] [-P PORT] [--socket PATH] [--data-dir DIR] [-u USER] [-p PASSWORD] [-l LOGLEVEL] [--max-connections N] [--readonly]",
		"serve the databases of a data directory over the MySQL protocol")
	cmd.Long = `Sql-server serves every database of the data directory (the current directory
by default) to MySQL clients until it is interrupted (SIGINT or SIGTERM), then
lets running statements finish (up to the shutdown timeout) and closes the
databases. A second signal exits at once; the databases are crash-safe.

The log goes to stderr: one line per connection opened and closed, per failed
statement and per slow statement; statement text only at the debug level, with
string literals hidden in statements that may carry passwords.

Users and grants are kept in DATA_DIR/.cairn. On the first start the superuser
is --user (root) with --password (empty), allowed from localhost. Without
--password, the password comes from $CAIRN_ROOT_PASSWORD, or from the file
named by $CAIRN_ROOT_PASSWORD_FILE (a trailing newline is dropped).

The configuration file (--config) is YAML; flags given override it:

  log_level: info            # debug, info, warn, error
  log_format: console        # console (human-readable) or json
  slow_query_threshold_millis: 1000   # log statements this slow (0: never)
  data_dir: /var/lib/cairn
  user: {name: root, password: ""}
  listener: {host: 127.0.0.1, port: 3306, socket: /tmp/cairn.sock, max_connections: 0,
             read_timeout_millis: 0, write_timeout_millis: 0,
             tls_cert: cert.pem, tls_key: key.pem, require_secure_transport: false,
             shutdown_timeout_millis: 30000}
  behavior: {read_only: false, autocommit: true, gc_interval_seconds: 60, cache_size: 256M}`
	cmd.Example = "  cairn sql-server --data-dir /var/lib/cairn -P 3306"
	var flags server.Config
	f := cmd.Flags()
	f.StringVarP(&flags.Host, "host", "H", server.DefaultHost, "the address to listen on")
	f.IntVarP(&flags.Port, "port", "P", server.DefaultPort, "the TCP port to listen on")
	f.StringVar(&flags.DataDir, "data-dir", ".", "the data directory")
	f.StringVar(&flags.Socket, "socket", "", "also listen on this unix socket")
	f.StringVarP(&flags.User, "user", "u", server.DefaultUser, "the superuser made on first start")
	f.StringVarP(&flags.Password, "password", "p", "", "the superuser's password on first start")
	f.Uint64Var(&flags.MaxConnections, "max-connections", 0, "the most connections at once (0: no limit)")
	f.BoolVar(&flags.ReadOnly, "readonly", false, "refuse every statement that would change data or schema")
	f.StringVarP(&flags.LogLevel, "loglevel", "l", "info", "debug, info, warn or error")
	f.StringVar(&flags.LogFormat, "log-format", "console", "console (human-readable) or json")
	f.DurationVar(&flags.SlowQuery, "slow-query", server.DefaultSlowQuery, "log statements that take this long (0: never)")
	f.DurationVar(&flags.GCInterval, "gc-interval", server.DefaultGCInterval, "collect garbage this often (0: never)")
	cacheSize := f.String("cache-size", "256M", "the block cache all databases share, such as 256M or 1G")
	f.StringVar(&flags.PprofAddr, "pprof", "", "serve Go's profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060")
	configFile := f.String("config", "", "a YAML configuration file (flags given override it)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		n, err := server.ParseCacheSize(*cacheSize)
		if err != nil {
			return usageError("--cache-size: " + err.Error())
		}
		flags.CacheSize = n
		cfg := flags
		if *configFile != "" {
			if err := server.LoadConfigFile(*configFile, &cfg); err != nil {
				return err
			}
			// Flags given on the command line win over the file.
			for name, set := range map[string]func(){
				"host": func() { cfg.Host = flags.Host }, "port": func() { cfg.Port = flags.Port },
				"data-dir": func() { cfg.DataDir = flags.DataDir }, "user": func() { cfg.User = flags.User },
				"password": func() { cfg.Password = flags.Password }, "readonly": func() { cfg.ReadOnly = flags.ReadOnly },
				"max-connections": func() { cfg.MaxConnections = flags.MaxConnections },
				"loglevel":        func() { cfg.LogLevel = flags.LogLevel },
				"socket":          func() { cfg.Socket = flags.Socket },
				"log-format":      func() { cfg.LogFormat = flags.LogFormat },
				"slow-query":      func() { cfg.SlowQuery = flags.SlowQuery },
				"gc-interval":     func() { cfg.GCInterval = flags.GCInterval },
				"pprof":           func() { cfg.PprofAddr = flags.PprofAddr },
				"cache-size":      func() { cfg.CacheSize = flags.CacheSize },
			} {
				if f.Changed(name) {
					set()
				}
			}
		}
		if !f.Changed("password") && cfg.Password == "" {
			pw, err := passwordFromEnv(os.Getenv)
			if err != nil {
				return err
			}
			cfg.Password = pw
		}
		if f.Changed("slow-query") && cfg.SlowQuery == 0 {
			cfg.SlowQuery = -1 // never
		}
		if f.Changed("gc-interval") && cfg.GCInterval == 0 {
			cfg.GCInterval = -1 // never
		}
		if cfg.Port < 0 || cfg.Port > 65535 {
			return usageError(fmt.Sprintf("port %d is not a TCP port", cfg.Port))
		}
		server.Version = Version
		return server.Run(cmd.Context(), cfg, func(addr string) {
			fmt.Fprintf(cmd.OutOrStdout(), "cairn sql-server listening on %s (data directory %s)\n", addr, cfg.DataDir)
			if host, _, err := net.SplitHostPort(addr); err == nil && cfg.Password == "" && !isLoopback(host) {
				fmt.Fprintln(cmd.ErrOrStderr(), "WARNING: listening on a non-loopback address; if the superuser has no password, anyone who reaches this port is root")
			}
		})
	}
	return cmd
}

func isLoopback(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// passwordFromEnv returns the superuser's first-start password from
// CAIRN_ROOT_PASSWORD or the file CAIRN_ROOT_PASSWORD_FILE names.
func passwordFromEnv(getenv func(string) string) (string, error) {
	if pw := getenv("CAIRN_ROOT_PASSWORD"); pw != "" {
		return pw, nil
	}
	path := getenv("CAIRN_ROOT_PASSWORD_FILE")
	if path == "" {
		return "", nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("CAIRN_ROOT_PASSWORD_FILE: %w", err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}
