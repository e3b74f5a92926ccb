// Package enginetest runs go-mysql-server's own conformance suites (its
// enginetest package) against cairn's storage engine, storage/sqle, and, in
// the same run, against go-mysql-server's memory engine for comparison.
//
// The package has only tests. They run when the environment variable
// CAIRN_CONFORMANCE is set (many fail today, so `go test ./...` skips them):
//
//	CAIRN_CONFORMANCE=1 go test ./storage/sqle/enginetest -run 'TestCairn/^Queries$'
//	CAIRN_CONFORMANCE=1 go test ./storage/sqle/enginetest -run 'TestMemory/^Queries$'
//
// scripts/conformance.sh runs every suite for both engines and writes the
// pass/fail/skip counts to storage/sqle/CONFORMANCE.md.
package enginetest
