// Package remote copies a database's chunks and refs to a destination and
// back: backups now, remotes later. A destination (a URL: file://, and s3://
// with a later issue) holds immutable pack files and one small manifest; see
// docs/backups.md for the format and the rules that keep a destination valid
// at every instant.
//
// The parts:
//
//   - Destination: the few operations a place to store objects must offer
//     (ranged get, put, exists, list, delete, and compare-and-swap of a small
//     versioned object), with a file:// and an in-memory implementation.
//   - Packs (pack.go): compressed chunks, an index sorted by hash and a
//     checksummed footer. A pack is written once and never changed.
//   - The manifest (manifest.go): the refs of the backup and the packs that
//     hold their chunks, replaced atomically and only by compare-and-swap.
//   - The destination lock (lock.go): a lease object naming its holder, so
//     two syncs never interleave at one destination.
//   - Sync, Restore, Verify and Prune: the operations the SQL procedure and
//     the CLI both call.
package remote
