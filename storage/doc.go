// Package storage is the root of cairn's versioned storage. It holds no code;
// its subpackages are layered, each importing only those below it:
//
//	storage/chunk            chunks named by hash, refs swapped by compare-and-swap, walk and GC
//	storage/chunk/diskstore  the persistent chunk store on Pebble
//	storage/tree             prolly trees: ordered maps whose nodes are chunks
//	storage/repo             the commit graph: root values, commits, branches, working sets
//	storage/dbdir            databases on disk: a directory with a store and its config
//	storage/sqle             the go-mysql-server engine over them (codec: SQL values as
//	                         bytes; schema: stored table schemas)
//
// Nothing under storage imports the SQL engine except storage/sqle, the
// adapter to go-mysql-server. layers_test.go checks these rules.
package storage
