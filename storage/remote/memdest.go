package remote

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// memDest is a destination in memory, for tests: Memory(name) returns the
// same one for the same name in this process (the URL mem://NAME).
type memDest struct {
	name string

	mu      sync.Mutex
	objects map[string]memObject
	// fail, if set, is consulted before each operation; an error it
	// returns is the operation's (fault injection in tests).
	fail func(op, name string) error
}

type memObject struct {
	data     []byte
	modified time.Time
}

var memDests = struct {
	sync.Mutex
	m map[string]*memDest
}{m: map[string]*memDest{}}

// Memory returns the in-memory destination called name (mem://name),
// making it if it does not exist.
func Memory(name string) Destination {
	memDests.Lock()
	defer memDests.Unlock()
	d, ok := memDests.m[name]
	if !ok {
		d = &memDest{name: name, objects: map[string]memObject{}}
		memDests.m[name] = d
	}
	return d
}

// SetFault makes every later operation of the memory destination d first
// call fail(op, object name) and fail with its error, if any; nil removes
// the hook. op is one of get, put, stat, list, delete, load, swap, remove.
func SetFault(d Destination, fail func(op, name string) error) {
	m := d.(*memDest)
	m.mu.Lock()
	m.fail = fail
	m.mu.Unlock()
}

func (d *memDest) URL() string { return "mem://" + d.name }

func (d *memDest) check(op, name string) error {
	if d.fail != nil {
		return d.fail(op, name)
	}
	return nil
}

func (d *memDest) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("get", name); err != nil {
		return nil, err
	}
	o, ok := d.objects[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	if n < 0 {
		n = int64(len(o.data)) - off
	}
	if off < 0 || n < 0 || off+n > int64(len(o.data)) {
		return nil, fmt.Errorf("%s: range %d+%d past the end: %w", name, off, n, io.ErrUnexpectedEOF)
	}
	return append([]byte(nil), o.data[off:off+n]...), nil
}

func (d *memDest) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if !validObjectName(name) {
		return fmt.Errorf("invalid object name %q", name)
	}
	data, err := io.ReadAll(contextReader{ctx, r})
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("%s: wrote %d bytes, want %d", name, len(data), size)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("put", name); err != nil {
		return err
	}
	d.objects[name] = memObject{data: data, modified: time.Now()}
	return nil
}

func (d *memDest) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("stat", name); err != nil {
		return ObjectInfo{}, err
	}
	o, ok := d.objects[name]
	if !ok {
		return ObjectInfo{}, fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	return ObjectInfo{Name: name, Size: int64(len(o.data)), Modified: o.modified}, nil
}

func (d *memDest) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("list", prefix); err != nil {
		return nil, err
	}
	var out []ObjectInfo
	for name, o := range d.objects {
		if strings.HasPrefix(name, prefix) {
			out = append(out, ObjectInfo{Name: name, Size: int64(len(o.data)), Modified: o.modified})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (d *memDest) Delete(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("delete", name); err != nil {
		return err
	}
	delete(d.objects, name)
	return nil
}

func (d *memDest) Load(ctx context.Context, name string) ([]byte, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("load", name); err != nil {
		return nil, "", err
	}
	o, ok := d.objects[name]
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	return append([]byte(nil), o.data...), version(o.data), nil
}

func (d *memDest) Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error) {
	if !validObjectName(name) {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("swap", name); err != nil {
		return "", err
	}
	cur := ""
	if o, ok := d.objects[name]; ok {
		cur = version(o.data)
	}
	if cur != ifVersion {
		return "", fmt.Errorf("%s: %w", name, ErrVersionMismatch)
	}
	d.objects[name] = memObject{data: append([]byte(nil), data...), modified: time.Now()}
	return version(data), nil
}

func (d *memDest) Remove(ctx context.Context, name, ifVersion string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check("remove", name); err != nil {
		return err
	}
	o, ok := d.objects[name]
	if !ok {
		return fmt.Errorf("%s: %w", name, ErrNotExist)
	}
	if version(o.data) != ifVersion {
		return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
	}
	delete(d.objects, name)
	return nil
}
