// Package tree implements prolly trees: immutable ordered maps from byte keys
// to byte values whose nodes are chunks in a chunk.Store.
//
// Node boundaries are chosen from the content (see chunker.go), so a map's
// root hash depends only on its entries, never on the order they were
// written in, and two versions of a map share every node their edits did not
// touch. Diff compares two maps in time proportional to their difference by
// skipping subtrees with equal hashes; Merge builds a three-way merge on it.
// Values longer than InlineLimit are stored out of line as blob trees.
//
// Every node read goes through a NodeStore, which caches decoded nodes in a
// NodeCache bounded in bytes and passed in by the caller (no package-level
// state).
//
// # Caveats
//
// Maps are values: Edit returns a new Map and never changes the old one.
// Slices returned by Get, At, Iter.Next and in Differences point into cached
// nodes and must not be modified; they stay valid. A Map, NodeStore and
// NodeCache are safe for concurrent use; an Iter or DiffIter is not.
// Edit and Builder put the nodes they make into the chunk store before they
// return, and do not update any ref: the caller does, after (put before
// reference). Until a ref names the result, only a lease protects it from a
// concurrent garbage collection: a caller of Edit on a collectable store
// holds a chunk.Lease, taken before Edit (on the map it edits, unless a ref
// names that map anyway), until the ref is updated. See docs/gc.md.
package tree
