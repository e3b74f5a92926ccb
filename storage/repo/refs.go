package repo

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Prefixes of the ref names this package keeps in the chunk store.
const (
	// HeadsPrefix + NAME is branch NAME; it names the branch's head commit.
	HeadsPrefix = "refs/heads/"
	// TagsPrefix + NAME is tag NAME; it names a Tag chunk.
	TagsPrefix = "refs/tags/"
	// RemotesPrefix + REMOTE/NAME is the remote-tracking branch NAME of
	// remote REMOTE; it names a commit.
	RemotesPrefix = "refs/remotes/"
	// WorkingSetsPrefix + NAME is the working set of branch NAME; it names a
	// WorkingSet chunk.
	WorkingSetsPrefix = "refs/workingsets/heads/"
)

// BranchRef returns the ref name of branch name.
func BranchRef(name string) string { return HeadsPrefix + name }

// TagRef returns the ref name of tag name.
func TagRef(name string) string { return TagsPrefix + name }

// RemoteRef returns the ref name of remote-tracking branch name of remote.
func RemoteRef(remote, name string) string { return RemotesPrefix + remote + "/" + name }

// WorkingSetRef returns the ref name of the working set of branch name.
func WorkingSetRef(branch string) string { return WorkingSetsPrefix + branch }

// maxNameLen bounds branch and tag names, and maxRemoteNameLen remote names,
// so that every ref built from them, remote-tracking refs included, fits in
// chunk.MaxRefNameLen (a test checks it).
const (
	maxNameLen       = 900
	maxRemoteNameLen = 100
)

// CheckBranchName returns an error matching ErrInvalidName, saying what is
// wrong, if name cannot be a branch name. The rules are git's
// (git check-ref-format --branch), made stricter: a name is valid UTF-8 of at
// most 900 bytes; does not start with '-' or '/', or end with '/', '.' or
// ".lock"; holds no "..", "//", "@{", no component starting with '.', no
// space, control character or any of : ? [ \ ^ ~ *; and is not "@" or HEAD
// in any case.
func CheckBranchName(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("repo: invalid branch name %q: %s: %w", name, err, ErrInvalidName)
	}
	return nil
}

// CheckTagName is CheckBranchName for tags: the rules are the same.
func CheckTagName(name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("repo: invalid tag name %q: %s: %w", name, err, ErrInvalidName)
	}
	return nil
}

// CheckRemoteName is CheckBranchName for remotes, which also may not hold
// '/' (it separates the remote from the branch in a remote-tracking ref) and
// are at most 100 bytes long.
func CheckRemoteName(name string) error {
	err := checkName(name)
	if err == nil && strings.Contains(name, "/") {
		err = nameError("contains '/'")
	}
	if err == nil && len(name) > maxRemoteNameLen {
		err = nameError(fmt.Sprintf("longer than %d bytes", maxRemoteNameLen))
	}
	if err != nil {
		return fmt.Errorf("repo: invalid remote name %q: %s: %w", name, err, ErrInvalidName)
	}
	return nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

func checkName(name string) error {
	switch {
	case name == "":
		return nameError("empty")
	case len(name) > maxNameLen:
		return nameError(fmt.Sprintf("longer than %d bytes", maxNameLen))
	case !utf8.ValidString(name):
		return nameError("not valid UTF-8")
	case strings.EqualFold(name, "HEAD"):
		return nameError("HEAD is reserved")
	case name == "@":
		return nameError("'@' is reserved")
	case name[0] == '-':
		return nameError("starts with '-'")
	case name[0] == '/':
		return nameError("starts with '/'")
	case strings.HasSuffix(name, "/"):
		return nameError("ends with '/'")
	case strings.HasSuffix(name, "."):
		return nameError("ends with '.'")
	case strings.HasSuffix(name, ".lock"):
		return nameError("ends with '.lock'")
	case strings.Contains(name, ".."):
		return nameError("contains '..'")
	case strings.Contains(name, "//"):
		return nameError("contains '//'")
	case strings.Contains(name, "@{"):
		return nameError("contains '@{'")
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") {
			return nameError("a component starts with '.'")
		}
		if strings.HasSuffix(comp, ".lock") {
			return nameError("a component ends with '.lock'")
		}
	}
	for _, c := range name {
		switch {
		case c < 0x20 || c == 0x7f:
			return nameError(fmt.Sprintf("contains control character %U", c))
		case c == ' ':
			return nameError("contains a space")
		case strings.ContainsRune(`:?[\^~*`, c):
			return nameError(fmt.Sprintf("contains %q", c))
		}
	}
	return nil
}
