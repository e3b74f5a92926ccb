// Package schema is the stored schema of a SQL table: everything about a
// table except its rows (columns with their types, defaults and generated
// expressions, primary key, secondary indexes, checks, foreign keys, comment,
// collation), and its conversion to and from what go-mysql-server passes and
// expects.
//
// FromSQL and ColumnFromSQL turn the engine's schema (CREATE TABLE, ADD and
// MODIFY COLUMN) into a Table; SQLSchema and PrimaryKeySchema turn a Table
// back into what sql.Table.Schema and sql.PrimaryKeyTable return. Encode and
// Decode give the bytes kept in a table record (repo.TableRecord.Schema);
// docs/format.md describes them.
//
// # What is stored, and why this way
//
// Column types are stored as the text of the type in CREATE TABLE and parsed
// back with the engine's own parser, so the stored form is readable and does
// not depend on the engine's Go structures. Type.String alone is not enough:
// it leaves out the character set and collation when they are the default,
// the SRID of spatial types, and writes ENUM and SET values unescaped. The
// text written here names all of these, and ColumnFromSQL refuses (with
// ErrUnsupportedType) a type whose text would not parse back to the same
// type, so a type is never silently changed by storing it.
//
// Where MySQL's type says more than the engine's can (TIME(0), DECIMAL
// UNSIGNED, FLOAT(M,D)), a column also keeps its declared type, as MySQL
// writes it (Column.Declared, ParseDeclared); indexes and the primary key
// keep which columns were declared DESC. These are stored in format
// version 2, written only for tables that have them.
//
// Defaults, generated columns and ON UPDATE are stored as expression text,
// the way the engine's memory tables keep them: the resolved expression's
// String with table names removed from column references. That text is what
// SHOW CREATE TABLE prints, and the engine resolves it again (with the same
// literal-or-expression reading) whenever it plans a statement on the table.
//
// The encoding is binary: a version byte, then fields as uvarints and
// length-prefixed strings, like the other values in storage/repo. JSON would
// have done, but a table record is content-addressed, and JSON has many
// spellings of one value (spacing, escapes, key order) that a canonical form
// would have to rule out; the binary layout has one encoding per table and
// a decoder that refuses the rest cheaply. What a person would want to read
// (types, expressions, names) is SQL text inside it anyway.
//
// # Caveats
//
// A Table is a plain value. Its methods do not change it; whoever changes one
// must not share it meanwhile (Clone gives a private copy). sql.Type values
// are shared between copies: they are immutable. Decoded tables do not alias
// the decoded bytes.
//
// Decode runs the engine's type parser on every column (a few microseconds
// each); callers that read a schema often should keep the decoded Table,
// keyed by the hash of its bytes. Decode accepts any type text the parser
// reads, not only the canonical text Encode writes, so that a change in how
// a later engine version prints a type does not make stored schemas
// unreadable.
//
// The table's name and its foreign keys (with database and table names) are
// part of the encoding: renaming a table or database means writing the
// schema again. Expressions and check clauses are not checked here; the
// engine parses them.
package schema
