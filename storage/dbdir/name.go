package dbdir

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest database name, in bytes: MySQL's limit for
// identifiers.
const MaxNameLen = 64

// nameError is the error CheckName returns; it matches ErrInvalidName.
type nameError struct{ name, reason string }

func (e *nameError) Error() string {
	return fmt.Sprintf("invalid database name '%s': %s", e.name, e.reason)
}

func (e *nameError) Is(target error) bool { return target == ErrInvalidName }

// CheckName returns nil if name can be a database's name, and otherwise an
// error matching ErrInvalidName whose text says why: "invalid database name
// 'NAME': REASON". A database name is a directory name, on every system cairn
// runs on, and a MySQL identifier: not empty, at most MaxNameLen bytes of
// valid UTF-8, without '/', '\\' or NUL, without "..", not starting with '.'
// (hidden names are cairn's own) and not ending with a space (MySQL refuses
// those).
func CheckName(name string) error {
	reason := ""
	switch {
	case name == "":
		reason = "empty"
	case len(name) > MaxNameLen:
		reason = fmt.Sprintf("longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(name):
		reason = "not valid UTF-8"
	case strings.ContainsRune(name, 0):
		reason = "contains a NUL byte"
	case strings.ContainsAny(name, `/\`):
		reason = "contains '/' or '\\'"
	case strings.Contains(name, ".."):
		reason = "contains '..'"
	case name[0] == '.':
		reason = "starts with '.'"
	case strings.Trim(name, " ") == "":
		reason = "only spaces"
	case strings.HasSuffix(name, " "):
		reason = "ends with a space"
	default:
		return nil
	}
	return &nameError{name: name, reason: reason}
}
