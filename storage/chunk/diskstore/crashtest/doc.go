// Package crashtest kills processes that use a diskstore at random moments
// and checks what survives: every ref update that was acknowledged is still
// there (or a later one that was in flight), and every chunk reachable from
// a ref is present and matches its hash. One test writes, the other collects
// garbage while it writes.
//
// The tests re-execute their own test binary as the child process. They
// run 50 kills each by default; `go test -long` or CAIRN_LONG=1 runs 500.
// Each prints its seed; CAIRN_SEED replays one.
package crashtest
