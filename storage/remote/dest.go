package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Errors of destinations. Implementations return errors matching these.
var (
	// ErrNotExist: the object does not exist.
	ErrNotExist = errors.New("object does not exist")
	// ErrVersionMismatch: a compare-and-swap found another version than
	// the one it expected.
	ErrVersionMismatch = errors.New("object changed meanwhile")
)

// ObjectInfo describes an object at a destination.
type ObjectInfo struct {
	Name     string
	Size     int64
	Modified time.Time
}

// Destination is a place that holds a backup or a remote: a flat namespace
// of objects named by slash-separated paths. Two kinds of objects live
// there: immutable ones (packs), written once by Put and never changed, and
// small versioned ones (the manifest, the lock), replaced only by Swap. All
// methods are safe for concurrent use.
type Destination interface {
	// URL is the destination's URL, absolute, without secrets.
	URL() string
	// Get returns n bytes of object name from offset off; n < 0 reads to
	// the end. A range past the end is an error.
	Get(ctx context.Context, name string, off, n int64) ([]byte, error)
	// Put writes an immutable object of size bytes read from r. It appears
	// whole or not at all: a reader never sees a part of it, and a failed
	// or interrupted Put leaves nothing under name.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	// Stat returns the object's size and time, or an error matching
	// ErrNotExist.
	Stat(ctx context.Context, name string) (ObjectInfo, error)
	// List returns every object whose name starts with prefix, sorted by
	// name.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes an immutable object; deleting a missing one is not an
	// error.
	Delete(ctx context.Context, name string) error

	// Load returns a versioned object and its version, or an error
	// matching ErrNotExist.
	Load(ctx context.Context, name string) (data []byte, version string, err error)
	// Swap replaces versioned object name with data if its version is
	// ifVersion ("" meaning: only if it does not exist), durably and
	// atomically, and returns the new version. Otherwise it changes
	// nothing and returns an error matching ErrVersionMismatch.
	Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error)
	// Remove deletes versioned object name if its version is ifVersion,
	// or returns an error matching ErrVersionMismatch (or ErrNotExist).
	Remove(ctx context.Context, name, ifVersion string) error
}

// URLError is a destination URL cairn cannot use. Its text is Dolt's, so
// applications that match on it keep working.
type URLError struct {
	URL    string
	Scheme string // set for a scheme cairn does not know
	Reason string // why an URL of a known scheme is invalid, if it says more
}

func (e *URLError) Error() string {
	if e.Scheme != "" {
		return fmt.Sprintf("unknown url scheme: '%s'", e.Scheme)
	}
	if e.Reason != "" {
		return fmt.Sprintf("backup URL '%s' is invalid: %s", e.URL, e.Reason)
	}
	return fmt.Sprintf("backup URL '%s' is invalid", e.URL)
}

// NormalizeURL checks a destination URL and makes it absolute: a relative
// file:// path (file://../backups/b1, file://./b1, file://b1) is resolved
// against base, a local directory. The result is the form URLs are stored in.
func NormalizeURL(raw, base string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", &URLError{URL: raw}
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		// Dolt reads a URL without a scheme as a path on its own hosted
		// service; cairn has none.
		return "", &URLError{URL: raw, Reason: "it needs a scheme, such as file://"}
	}
	switch strings.ToLower(scheme) {
	case "file":
		path, err := filePath(rest)
		if err != nil {
			return "", &URLError{URL: raw, Reason: err.Error()}
		}
		if path == "" {
			return "", &URLError{URL: raw, Reason: "it names no directory"}
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(base, path)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", err
		}
		return FileURL(abs), nil
	case "mem":
		if rest == "" {
			return "", &URLError{URL: raw}
		}
		return "mem://" + rest, nil
	case "s3":
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return "", &URLError{URL: raw, Reason: "it names no bucket"}
		}
		u := "s3://" + bucket
		if prefix = strings.Trim(prefix, "/"); prefix != "" {
			u += "/" + prefix
		}
		return u, nil
	default:
		return "", &URLError{URL: raw, Scheme: scheme}
	}
}

// filePath returns the local path of the part of a file:// URL after the
// scheme: "/abs/path", "rel/path", or "localhost/abs/path". Percent-escapes
// are decoded.
func filePath(rest string) (string, error) {
	if strings.HasPrefix(rest, "localhost/") {
		rest = rest[len("localhost"):]
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", err
	}
	return filepath.FromSlash(p), nil
}

// FileURL returns the file:// URL of an absolute local path.
func FileURL(abs string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return u.String()
}

// Open returns the destination of a normalized URL (see NormalizeURL), with
// its params (an s3:// destination's endpoint, region, path style or
// profile: see ParamEndpoint; its encryption key file, see
// ParamEncryptionKeyFile). create makes a missing file:// directory.
func Open(ctx context.Context, rawURL string, params map[string]string, create bool) (Destination, error) {
	d, err := open(ctx, rawURL, params, create)
	if err != nil {
		return nil, err
	}
	if f := params[ParamEncryptionKeyFile]; f != "" {
		key, err := ReadKeyFile(f)
		if err != nil {
			return nil, err
		}
		return Encrypted(d, key)
	}
	return d, nil
}

func open(ctx context.Context, rawURL string, params map[string]string, create bool) (Destination, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, &URLError{URL: rawURL, Reason: "it needs a scheme, such as file://"}
	}
	switch strings.ToLower(scheme) {
	case "file":
		path, err := filePath(rest)
		if err != nil {
			return nil, &URLError{URL: rawURL, Reason: err.Error()}
		}
		if !filepath.IsAbs(path) {
			return nil, &URLError{URL: rawURL, Reason: "the path is not absolute"}
		}
		return OpenFile(path, create)
	case "mem":
		return Memory(rest), nil
	case "s3":
		return openS3(ctx, rest, params)
	default:
		return nil, &URLError{URL: rawURL, Scheme: scheme}
	}
}

// DestinationParams are the params a destination may carry, as flags of the
// procedures (--endpoint=URL, --region=R, --path-style=true, --profile=P,
// --encryption-key-file=PATH).
var DestinationParams = []string{ParamEndpoint, ParamRegion, ParamPathStyle, ParamProfile, ParamEncryptionKeyFile}
