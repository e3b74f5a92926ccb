package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/go-sql-driver/mysql"

	"github.com/cairndb/cairn/server"
	"github.com/cairndb/cairn/storage/dbdir"
)

// Commands that work in a database directory (backup, status, commit, …)
// send their work to the cairn sql-server that holds the data directory,
// when one runs, instead of opening the files.

// findDatabase returns the name of the database in directory dir and the
// running server that serves it, if any (the server's data directory is
// the database's directory or its parent).
func findDatabase(dir string) (string, *server.Lock, error) {
	if !dbdir.IsDatabase(dir) {
		return "", nil, errors.New("the current directory is not a cairn database: run this in a database's directory (see cairn init)")
	}
	name := filepath.Base(dir)
	for _, dataDir := range []string{dir, filepath.Dir(dir)} {
		if l, ok := server.Running(dataDir); ok {
			return name, &l, nil
		}
	}
	return name, nil, nil
}

// connectServer opens a connection pool to the running server l as user
// (root if "") in database db ("" for none); it returns the address too.
func connectServer(l *server.Lock, user, password, db string) (*sql.DB, string, error) {
	host := l.Host
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	if user == "" {
		user = server.DefaultUser
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", net.JoinHostPort(host, strconv.Itoa(l.Port)), db
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, "", err
	}
	return sql.OpenDB(conn), cfg.Addr, nil
}

// serverError turns an error from the server into the CLI's: the server's
// message as it is, anything else as a failure to reach it.
func serverError(err error, addr string, l *server.Lock) error {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return errors.New(me.Message)
	}
	return fmt.Errorf("the cairn server at %s (pid %d) holds this database, and reaching it failed: %w", addr, l.PID, err)
}
