// Package chunk is the bottom of cairn's storage: immutable chunks of bytes
// named by the hash of their content, and a small set of named, mutable refs
// that point at chunks.
//
// Every chunk cairn writes is an envelope (see Encode): a format byte, a kind
// byte, the list of hashes the chunk refers to, then a kind-specific payload.
// Because the references of every chunk are found in the same place, the
// reachability walk (Walk), garbage collection, backups and verification work
// on any chunk without knowing what it encodes.
//
// A Store holds chunks and refs. Chunks are written with Put and become
// durable no later than the next successful UpdateRefs, which swaps refs by
// compare-and-swap and is itself durable when it returns. A ref may only name a
// chunk already in the store (put before reference).
//
// # Caveats
//
// Slices returned by Get and passed to GetMany callbacks are immutable and must
// not be modified; they stay valid after the call. Slices passed to Put must not
// be modified after the call. All Store methods are safe for concurrent use.
package chunk
