// Package repo is cairn's commit graph: the values that describe a database
// and its history, and the refs that name them.
//
// A database at one instant is a RootValue: its tables (each a TableRecord
// naming a schema, a row map and index maps by their root hashes), its views,
// triggers, procedures and events, and a few settings. A Commit records a root
// value with its parents, author, time and message; a commit's Height
// (1 + its parents' greatest) makes merge-base and ancestry walks stop early.
// Each branch has a head commit and a WorkingSet: the working root sessions
// read and write, the root staged for the next commit, and a merge in
// progress. A Tag names a commit with a message.
//
// Each of these values is one chunk (see chunk.Encode) whose reference list
// holds every hash the value points to, so chunk.Walk, garbage collection and
// backups reach everything without decoding payloads. Encodings are canonical
// (one value, one byte string, one hash) and versioned; docs/format.md
// describes them. Decoders never panic: malformed bytes give an error matching
// chunk.ErrCorruption that names the chunk.
//
// A Repo keeps branches, tags, remote-tracking branches and working sets as
// refs of a chunk.Store (see BranchRef, TagRef, RemoteRef, WorkingSetRef) and
// offers the operations of a versioned database on them: Init, branches,
// Commit, Log, MergeBase, IsAncestor, Resolve of revisions such as HEAD~2.
// docs/history.md describes the refs, the revision syntax and the walks.
//
// # Caveats
//
// Every change of refs is one compare-and-swap (chunk.Store.UpdateRefs) from
// the values the operation read, after the chunks it names are put. If
// another writer changed one of them meanwhile the operation returns an error
// matching chunk.ErrRefConflict and has changed no ref; it does not retry,
// because what it would write may depend on what changed. Callers retry by
// doing the whole operation again (read, decide, write).
//
// An operation of Repo that puts chunks and then names them in refs holds a
// chunk lease (chunk.Collectable) in between, so a concurrent garbage
// collection keeps them. A hash a caller passes in (the start of
// CreateBranch, the commit of CreateTag, the new head of UpdateBranch) is the
// caller's to protect: it must come from the refs or a lease the caller
// still holds. Init must not race another Init of the same store: the
// callers (cairn init, CREATE DATABASE) serialize it. CreateCommit, WriteRoot and WriteTable put chunks
// that no ref names yet: a caller that uses them must hold a lease of its own
// from before the first put until a ref names the result.
//
// Decoded values do not alias the chunk they came from and belong to the
// caller. RootValue is immutable; the other values are plain structs that
// callers must not change while another goroutine reads them.
//
// The package never imports the SQL engine, nor the prolly tree package:
// tables and maps are only hashes here.
package repo
