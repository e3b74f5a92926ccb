// Package schema is the stored schema of a SQL table.
package schema
