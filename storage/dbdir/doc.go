// Package dbdir is the layout of databases on disk: which directory is a
// database, how one is made, opened, listed and removed.
//
// # Layout
//
// A database is a directory; its name is the database's name (see
// CheckName). It holds everything cairn keeps in a hidden subdirectory:
//
//	DIR/.cairn/store/        the chunk store (diskstore)
//	DIR/.cairn/config.json   per-database settings (Config)
//
// A directory is a database exactly when DIR/.cairn/store exists. A data
// directory (what a server serves) holds one database per subdirectory, and
// may be a database itself.
//
// # Crash safety
//
// Init builds the store under a temporary name beside its final place and
// renames it into place last, so a directory never looks like a database
// before its store holds the initial commit and its config is written.
// Remove first renames the database to a hidden name, so a crash while its
// files are deleted leaves no half-deleted database visible. A crash can
// leave such temporary directories behind (DIR/.cairn/store.init-*,
// .NAME.removing-*); List and IsDatabase ignore them, and they may be deleted
// at any time while no Init or Remove runs.
//
// # Caveats
//
// A database's store may be open in one process at a time: Open fails with an
// error matching diskstore.ErrLocked while another process holds it. Remove
// does not check for that: the caller must make sure nobody has the database
// open. The functions are safe for concurrent use; two Inits racing on one
// directory make one database, and the loser gets ErrAlreadyInitialized.
package dbdir
