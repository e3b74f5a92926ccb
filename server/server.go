package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/types"
	"go.uber.org/zap"

	"github.com/cairndb/cairn/procedures"
	"github.com/cairndb/cairn/storage/dbdir"
	"github.com/cairndb/cairn/storage/sqle"
)

// Defaults of Config.
const (
	DefaultHost = "127.0.0.1"
	DefaultPort = 3306
	DefaultUser = "root"
	// DefaultShutdownTimeout bounds how long Run waits for running
	// statements after its context ends.
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultSlowQuery is the duration from which a statement is logged
	// as slow.
	DefaultSlowQuery = time.Second
	// DefaultCacheSize is the size of the block cache all databases share.
	DefaultCacheSize = 256 << 20
)

// Config is what a server serves and how. NewConfig fills in defaults.
type Config struct {
	Host    string // DefaultHost
	Port    int    // DefaultPort; 0 picks a free port
	DataDir string // "."
	// Socket, if not empty, is the path of a unix socket to listen on too.
	Socket string
	// User and Password are the superuser made on first start (root with
	// an empty password by default); later starts keep the stored users.
	User, Password string
	// MaxConnections is the most connections at once (0: no limit); it
	// sets @@max_connections, which SET GLOBAL can then change.
	MaxConnections uint64
	// ReadTimeout and WriteTimeout bound waiting on a connection (0: none).
	ReadTimeout, WriteTimeout time.Duration
	// ReadOnly refuses every statement that would change data or schema.
	ReadOnly bool
	// LogLevel is debug, info, warn or error (the default: info).
	LogLevel string
	// LogFormat is console (human-readable, the default) or json.
	LogFormat string
	// LogOutput receives the log (os.Stderr if nil).
	LogOutput io.Writer
	// SlowQuery is the duration from which a statement is logged as slow
	// (DefaultSlowQuery if 0; negative: never).
	SlowQuery time.Duration
	// ShutdownTimeout bounds the wait for running statements once Run's
	// context ends (DefaultShutdownTimeout if 0).
	ShutdownTimeout time.Duration
	// GCInterval is how often garbage is collected (DefaultGCInterval if
	// 0; negative: never).
	GCInterval time.Duration
	// GCGrowthFactor collects a database's garbage at once when its store
	// has grown to this many times its size after the last collection
	// (DefaultGCGrowthFactor if 0; negative: never).
	GCGrowthFactor float64
	// CacheSize is the size in bytes of the block cache shared by every
	// database (DefaultCacheSize if 0): chunks as stored, kept outside the
	// Go heap, in front of the page cache.
	CacheSize int64
	// NoPlanCache turns off the prepared-plan cache (plancache.go): every
	// execution of a prepared statement is bound and analyzed afresh.
	NoPlanCache bool
	// NoDirectResults sends the rows of text-protocol SELECTs through
	// go-mysql-server's handler instead of the server's own loop
	// (results.go).
	NoDirectResults bool
	// PprofAddr, if set, is an address to serve Go's profiles on
	// (net/http/pprof), for profiling the server under load.
	PprofAddr string
	// TLSCert and TLSKey are PEM files: with them, clients may use TLS.
	TLSCert, TLSKey string
	// RequireSecureTransport refuses connections without TLS.
	RequireSecureTransport bool
	// AutoCommit, if not nil, is the autocommit of new sessions (on by
	// default, as in MySQL).
	AutoCommit *bool
	// Backups are the server-wide backups: every database, and the users
	// and grants, synced on a schedule (procedures.ServerBackups).
	Backups []procedures.Schedule
}

// Version is the cairn release the server reports in @@version_comment;
// the binary sets it.
var Version = "dev"

// ServerDir is the directory of server-wide state in a data directory.
const ServerDir = dbdir.CairnDir

// lockFile, usersFile and backupStateFile are in ServerDir.
const (
	lockFile  = "server.lock"
	usersFile = "users.db"
	// backupStateFile keeps the server-wide backups' status.
	backupStateFile = "backups.json"
)

// UsersFile is the path of the users and grants of the data directory dir.
func UsersFile(dir string) string { return filepath.Join(dir, ServerDir, usersFile) }

// Lock is the content of the lock file a running server keeps in its data
// directory, so the CLI can find it.
type Lock struct {
	PID  int    `json:"pid"`
	Host string `json:"host"`
	Port int    `json:"port"`
}

// ErrLocked is returned by Run when another live server holds the data
// directory.
var ErrLocked = errors.New("another cairn server holds this data directory")

// Run serves cfg until ctx ends, then stops accepting connections, lets
// running statements finish (up to ShutdownTimeout) and closes every
// database. ready, if not nil, is called with the listening address once
// connections are accepted.
func Run(ctx context.Context, cfg Config, ready func(addr string)) error {
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "."
	}
	if cfg.User == "" {
		cfg.User = DefaultUser
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if cfg.SlowQuery == 0 {
		cfg.SlowQuery = DefaultSlowQuery
	}
	if cfg.GCInterval == 0 {
		cfg.GCInterval = DefaultGCInterval
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	log, err := newLogger(cfg.LogOutput, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	defer log.Sync()
	bridgeEngineLogs(log)
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	state := filepath.Join(dir, ServerDir)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if cfg.Socket != "" {
		removeStaleSocket(cfg.Socket)
	}
	ln, err := gmsserver.NewListener("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), cfg.Socket)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return fmt.Errorf("server: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	release, err := takeLock(state, Lock{PID: os.Getpid(), Host: cfg.Host, Port: port})
	if err != nil {
		ln.Close()
		return err
	}
	defer release()

	e, err := sqle.NewEngine(ctx, sqle.Options{Dir: dir, BlockCacheBytes: cfg.CacheSize})
	if err != nil {
		ln.Close()
		return err
	}
	defer e.Close()
	if err := setUpUsers(e, state, cfg); err != nil {
		ln.Close()
		return err
	}

	var tlsConfig *tls.Config
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case cfg.RequireSecureTransport:
		ln.Close()
		return errors.New("server: require_secure_transport needs a TLS certificate and key")
	}
	e.SQL.ReadOnly.Store(cfg.ReadOnly)
	backups := &procedures.Backups{Prov: e.Provider, ReadOnly: e.SQL.ReadOnly.Load}
	backups.Logf = func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
	sb := &procedures.ServerBackups{
		Backups:   backups,
		Schedules: cfg.Backups,
		UsersFile: filepath.Join(state, usersFile),
		StateFile: filepath.Join(state, backupStateFile),
		Logf:      func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) },
		Warnf:     func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
	}
	if err := sb.Load(); err != nil {
		ln.Close()
		return fmt.Errorf("server: backups: %w", err)
	}
	backups.Server = sb
	e.Provider.SetBackupStatus(sb.Status)
	backups.Register()
	(&procedures.VersionControl{Prov: e.Provider}).Register()
	if cfg.AutoCommit != nil {
		v := int8(0)
		if *cfg.AutoCommit {
			v = 1
		}
		// Sessions start from the global values.
		if err := sql.SystemVariables.SetGlobal(sql.NewEmptyContext(), "autocommit", v); err != nil {
			ln.Close()
			return fmt.Errorf("server: autocommit: %w", err)
		}
	}
	// Every connection is wrapped, which turns go-mysql-server's own
	// watch for gone clients off; the server watches long statements
	// itself (watch.go).
	var accept net.Listener = watchListener{ln}
	if cfg.MaxConnections > 0 {
		if err := sql.SystemVariables.SetGlobal(sql.NewEmptyContext(), "max_connections", int64(cfg.MaxConnections)); err != nil {
			ln.Close()
			return fmt.Errorf("server: max_connections: %w", err)
		}
		accept = watchListener{&limitListener{Listener: ln}}
	}
	addSystemVariables()
	scfg := gmsserver.Config{
		Protocol:               "tcp",
		Address:                ln.Addr().String(),
		Listener:               accept,
		ConnReadTimeout:        cfg.ReadTimeout,
		ConnWriteTimeout:       cfg.WriteTimeout,
		TLSConfig:              tlsConfig,
		RequireSecureTransport: cfg.RequireSecureTransport,
	}
	slow := cfg.SlowQuery
	if slow < 0 {
		slow = 0
	}
	cs := newConns(log, slow)
	cs.planCache = !cfg.NoPlanCache
	cs.directResults = !cfg.NoDirectResults

	installMySQLErrors(e, cs, &scfg) // MySQL's errors for logins, privileges and statements (auth.go)

	s, err := gmsserver.NewServerWithHandler(scfg, e.SQL, sql.NewContext, e.Provider.SessionBuilder(), nil, cs.wrap)
	if err != nil {
		ln.Close()
		return fmt.Errorf("server: %w", err)
	}
	cs.sm = s.SessionManager()
	cs.kill = e.SQL.ProcessList.Kill
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		factor := cfg.GCGrowthFactor
		if factor == 0 {
			factor = DefaultGCGrowthFactor
		}
		if cfg.GCInterval > 0 || factor > 0 {
			collectGarbage(gcCtx, e.Provider, cfg.GCInterval, factor, log)
		}
	}()
	// The collection ends before the databases close.
	defer func() { stopGC(); <-gcDone }()
	trimCtx, stopTrim := context.WithCancel(ctx)
	defer stopTrim()
	go releaseFreedMemory(trimCtx)
	bkCtx, stopBackups := context.WithCancel(ctx)
	bkDone := make(chan struct{})
	go func() {
		defer close(bkDone)
		sb.Run(bkCtx)
	}()
	// So do the scheduled backups: a round cut short leaves each
	// destination's previous backup whole.
	defer func() { stopBackups(); <-bkDone }()
	errc := make(chan error, 1)
	go func() { errc <- s.Start() }()
	log.Info("listening", zap.String("address", ln.Addr().String()), zap.String("socket", cfg.Socket),
		zap.String("data_dir", dir), zap.Bool("read_only", cfg.ReadOnly), zap.Bool("tls", tlsConfig != nil))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new connections; waiting for running statements",
		zap.Duration("timeout", cfg.ShutdownTimeout))
	s.Close()
	dctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	cs.drain(dctx, 5*time.Second)
	log.Info("connections closed; closing databases")
	return nil
}

// addSystemVariables adds or replaces system variables clients read or
// set: @@version_comment is cairn's (the engine says Dolt), and
// optimizer_switch exists, so that SET optimizer_switch=… (mariadb-dump
// sends one) is accepted; the engine has no such switches and ignores it.
func addSystemVariables() {
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    "version_comment",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Type:    types.NewSystemStringType("version_comment"),
			Default: "cairn " + Version,
		},
		&sql.MysqlSystemVariable{
			Name:    "optimizer_switch",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemStringType("optimizer_switch"),
			Default: "index_merge=on,index_merge_union=on,index_merge_sort_union=on,index_merge_intersection=on,semijoin=on,materialization=on,derived_merge=on",
		},
	})
}

// removeStaleSocket removes a unix socket file nobody listens on (left by
// a server that was killed), so the next server can bind it.
func removeStaleSocket(path string) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		return
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return // alive: binding it fails with a clear error
	}
	os.Remove(path)
}

// setUpUsers enables users and grants, stored in state/users.db: loaded if
// the file exists, else the configured superuser is made and saved.
func setUpUsers(e *sqle.Engine, state string, cfg Config) error {
	db := e.SQL.Analyzer.Catalog.MySQLDb
	path := filepath.Join(state, usersFile)
	db.SetPersister(filePersister(path))
	ctx := sql.NewEmptyContext()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := db.LoadData(ctx, data); err != nil {
			return fmt.Errorf("server: read users from %s: %w", path, err)
		}
		db.SetEnabled(true)
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("server: %w", err)
	}
	ed := db.Editor()
	defer ed.Close()
	db.AddSuperUser(ed, cfg.User, "localhost", cfg.Password)
	return db.Persist(ctx, ed)
}

// filePersister saves the users and grants durably to one file.
type filePersister string

var _ mysql_db.MySQLDbPersistence = filePersister("")

func (p filePersister) Persist(ctx *sql.Context, data []byte) error {
	return dbdir.WriteFileDurably(string(p), data, 0o600) // password hashes
}

// takeLock writes the lock file, refusing if one names a live process.
func takeLock(state string, l Lock) (func(), error) {
	path := filepath.Join(state, lockFile)
	if old, err := ReadLock(filepath.Dir(state)); err == nil && alive(old.PID) && old.PID != os.Getpid() {
		return nil, fmt.Errorf("%w (pid %d, %s:%d)", ErrLocked, old.PID, old.Host, old.Port)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	if err := dbdir.WriteFileDurably(path, data, 0o644); err != nil {
		return nil, fmt.Errorf("server: write lock file: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// ReadLock returns the lock of the server running on dataDir, if its lock
// file exists (the process may have died since).
func ReadLock(dataDir string) (Lock, error) {
	var l Lock
	data, err := os.ReadFile(filepath.Join(dataDir, ServerDir, lockFile))
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return l, fmt.Errorf("server: lock file: %w", err)
	}
	return l, nil
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Running returns the lock of the live server holding dataDir, if one does:
// its lock file exists and names a running process.
func Running(dataDir string) (Lock, bool) {
	l, err := ReadLock(dataDir)
	if err != nil || !alive(l.PID) {
		return Lock{}, false
	}
	return l, true
}
