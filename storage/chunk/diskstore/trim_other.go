//go:build !cgo || !linux

package diskstore

// ReleaseFreedMemory gives the pages of freed C allocations back to the
// system; it reports whether it did. Without cgo Pebble allocates on the
// Go heap, which Go returns itself; on other systems it does nothing.
func ReleaseFreedMemory(threshold int64) bool { return false }
