// Package server is cairn's MySQL server: go-mysql-server's listener over
// the databases of a data directory (storage/sqle), with users and grants
// kept in DATA_DIR/.cairn, and a lock file that names the running server.
//
// # Caveats
//
// One server per data directory: Run refuses a directory whose lock file
// names a live process. The store of each database is locked by its
// process too (storage/chunk/diskstore), so two servers can never share a
// database even if the lock file is removed by hand.
package server
