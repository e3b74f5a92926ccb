package remote

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// The destination lock is a versioned object, lock.json, naming its holder
// and when it expires. A sync takes it before it writes anything and renews
// it while it runs; two syncs, from one process or two hosts, never write a
// destination at once. A holder that died leaves a lock that expires, or that
// a process on the same host sees is stale at once (its pid is gone).
const (
	lockName = "lock.json"
	// LockTTL is how long a lock lasts without renewal.
	LockTTL = 30 * time.Second
)

// LockInfo is the content of a destination lock.
type LockInfo struct {
	Operation string    `json:"operation"` // "sync"
	Database  string    `json:"database,omitempty"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Token     string    `json:"token"` // unique per acquisition
	Started   time.Time `json:"started"`
	Expires   time.Time `json:"expires"`
}

// LockedError is returned when another holder has the destination's lock.
type LockedError struct {
	URL    string
	Holder LockInfo
}

func (e *LockedError) Error() string {
	h := e.Holder
	what := h.Operation
	if h.Database != "" {
		what += " of database '" + h.Database + "'"
	}
	return fmt.Sprintf("backup destination %s is locked by a %s on host %s (pid %d) since %s; try again when it is done (the lock expires at %s unless renewed)",
		e.URL, what, h.Host, h.PID, h.Started.UTC().Format(time.RFC3339), h.Expires.UTC().Format(time.RFC3339))
}

// heldTokens are the tokens of the locks this process holds, so that a lock
// naming this process's pid but not held by it (left by an earlier process
// with the same pid) is known to be stale.
var heldTokens sync.Map

// destLock is a held destination lock.
type destLock struct {
	d       Destination
	info    LockInfo
	mu      sync.Mutex
	version string
	stop    chan struct{}
	done    chan struct{}
	lost    error // set by the renewer if the lock was lost
}

func newToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// acquireLock takes the lock of d for operation on database, renewing it
// every ttl/3 until release. cancel is called if a renewal finds the lock
// lost, so the operation stops before it writes the manifest.
func acquireLock(ctx context.Context, d Destination, operation, database string, ttl time.Duration, cancel func()) (*destLock, error) {
	host, _ := os.Hostname()
	now := time.Now()
	info := LockInfo{Operation: operation, Database: database, Host: host, PID: os.Getpid(), Token: newToken(), Started: now, Expires: now.Add(ttl)}
	data, _ := json.Marshal(info)
	held := func(v string) *destLock {
		l := &destLock{d: d, info: info, version: v, stop: make(chan struct{}), done: make(chan struct{})}
		go l.renew(ttl, cancel)
		return l
	}
	// The token counts as held from before the lock names it until after it
	// is removed: another acquirer in this process that reads the lock in
	// between must not find it stale.
	heldTokens.Store(info.Token, true)
	ok := false
	defer func() {
		if !ok {
			heldTokens.Delete(info.Token)
		}
	}()
	ifVersion := "" // create; or the version of a stale lock to take over
	for range 4 {
		v, err := d.Swap(ctx, lockName, data, ifVersion)
		if err == nil {
			ok = true
			return held(v), nil
		}
		if !errors.Is(err, ErrVersionMismatch) {
			return nil, fmt.Errorf("lock %s: %w", d.URL(), err)
		}
		cur, curVersion, err := d.Load(ctx, lockName)
		if errors.Is(err, ErrNotExist) {
			ifVersion = "" // released meanwhile
			continue
		}
		var plain *NotEncryptedError
		switch {
		case errors.As(err, &plain):
			// A lock left by a writer without the key, which stops
			// at the encrypted manifest: take it over.
			ifVersion = curVersion
			continue
		case err != nil:
			return nil, fmt.Errorf("lock %s: %w", d.URL(), err)
		case IsEncrypted(cur):
			return nil, fmt.Errorf("%s: %w", d.URL(), ErrEncrypted)
		}
		var holder LockInfo
		if json.Unmarshal(cur, &holder) == nil && lockIsLive(holder, host, time.Now()) {
			return nil, &LockedError{URL: d.URL(), Holder: holder}
		}
		ifVersion = curVersion // unreadable or stale: take it over
	}
	return nil, fmt.Errorf("lock %s: the lock keeps changing hands; try again", d.URL())
}

// lockIsLive reports whether a lock still holds: not expired, and if it was
// taken on this host, by a process that still runs and (for this process)
// holds it.
func lockIsLive(l LockInfo, host string, now time.Time) bool {
	if now.After(l.Expires) {
		return false
	}
	if l.Host == host && host != "" {
		if l.PID == os.Getpid() {
			_, held := heldTokens.Load(l.Token)
			return held
		}
		if l.PID <= 0 {
			return false
		}
		if err := syscall.Kill(l.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
			return false
		}
	}
	return true
}

func (l *destLock) renew(ttl time.Duration, cancel func()) {
	defer close(l.done)
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		info := l.info
		info.Expires = time.Now().Add(ttl)
		data, _ := json.Marshal(info)
		ctx, done := context.WithTimeout(context.Background(), ttl/3)
		l.mu.Lock()
		v, err := l.d.Swap(ctx, lockName, data, l.version)
		if err == nil {
			l.version = v
		} else if errors.Is(err, ErrVersionMismatch) || errors.Is(err, ErrNotExist) {
			l.lost = fmt.Errorf("lost the lock of backup destination %s (another process took it over)", l.d.URL())
		}
		lost := l.lost
		l.mu.Unlock()
		done()
		if lost != nil {
			cancel()
			return
		}
	}
}

// check returns an error if the lock was lost.
func (l *destLock) check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// release stops renewing and removes the lock.
func (l *destLock) release() error {
	close(l.stop)
	<-l.done
	defer heldTokens.Delete(l.info.Token)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return nil
	}
	ctx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if err := l.d.Remove(ctx, lockName, l.version); err != nil && !errors.Is(err, ErrNotExist) {
		return fmt.Errorf("unlock %s: %w", l.d.URL(), err)
	}
	return nil
}
