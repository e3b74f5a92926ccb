package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
)

// The manifest is the one object of a destination that changes: JSON naming
// the refs the destination holds and the packs that hold their chunks. It is
// written last and only by compare-and-swap, so a destination always holds a
// whole backup: the old one or the new.
const (
	manifestName   = "manifest.json"
	manifestFormat = "cairn-destination"
	// manifestVersion is the version written for a destination with a
	// base; one without is written as version 1, which cairn before bases
	// reads.
	manifestVersion = 2
	// maxManifestLen bounds the manifest a destination may give us.
	maxManifestLen = 256 << 20
)

// Manifest is the content of a destination's manifest.
type Manifest struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Kind is "backup" (remotes come with a later issue).
	Kind string `json:"kind"`
	// Database is the name of the database last synced here.
	Database string    `json:"database,omitempty"`
	Updated  time.Time `json:"updated"`
	// Refs maps every ref of the backup to its chunk's hash.
	Refs map[string]string `json:"refs"`
	// Packs are every pack holding the chunks of the refs, in the order
	// they were written.
	Packs []PackRef `json:"packs"`
	// Base, if not nil, is the file-level copy of the store the first sync
	// wrote (version 2); the packs hold what later syncs added.
	Base *BaseRef `json:"base,omitempty"`
}

// PackRef names one pack of a manifest.
type PackRef struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Chunks int    `json:"chunks"`
}

// refHashes returns the manifest's refs as hashes.
func (m *Manifest) refHashes() map[string]chunk.Hash { return parseRefs(m.Refs) }

// parseRefs returns refs, as a manifest holds them, as hashes; checkRefs
// has checked them.
func parseRefs(refs map[string]string) map[string]chunk.Hash {
	out := make(map[string]chunk.Hash, len(refs))
	for name, s := range refs {
		h, _ := chunk.Parse(s)
		out[name] = h
	}
	return out
}

// refStrings returns refs as a manifest holds them.
func refStrings(refs map[string]chunk.Hash) map[string]string {
	out := make(map[string]string, len(refs))
	for name, h := range refs {
		out[name] = h.String()
	}
	return out
}

// checkRefs checks refs read from a manifest: names, and hashes that
// parse. what names them in errors ("ref", "base ref").
func checkRefs(refs map[string]string, what string) error {
	for name, s := range refs {
		if err := chunk.CheckRefName(name); err != nil {
			return corruptf(manifestName, "%s %q: %v", what, name, err)
		}
		if _, err := chunk.Parse(s); err != nil {
			return corruptf(manifestName, "%s %s: bad hash %q", what, name, s)
		}
	}
	return nil
}

func encodeManifest(m *Manifest) []byte {
	m.Format, m.Version = manifestFormat, 1
	if m.Base != nil {
		m.Version = 2
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		panic(err) // only strings, numbers and times
	}
	return append(b, '\n')
}

// decodeManifest parses and checks a manifest: it is untrusted input.
func decodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, corruptf(manifestName, "not a cairn manifest: %v", err)
	}
	if m.Format != manifestFormat {
		return nil, corruptf(manifestName, "not a cairn manifest (format %q)", m.Format)
	}
	if m.Version < 1 || m.Version > manifestVersion {
		return nil, fmt.Errorf("the destination's manifest is of version %d; this cairn reads versions 1 to %d (a newer cairn wrote it)", m.Version, manifestVersion)
	}
	if m.Base != nil {
		if m.Version < 2 {
			return nil, corruptf(manifestName, "a base in a manifest of version %d", m.Version)
		}
		if err := m.Base.check(); err != nil {
			return nil, err
		}
	}
	if err := checkRefs(m.Refs, "ref"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range m.Packs {
		if !isPackName(p.Name) || p.Size < packHeaderLen+packFooterLen || p.Chunks < 0 || seen[p.Name] {
			return nil, corruptf(manifestName, "bad pack entry %q", p.Name)
		}
		seen[p.Name] = true
	}
	return &m, nil
}

// loadManifest reads the destination's manifest and its version; a
// destination without one gives an empty manifest and version "".
func loadManifest(ctx context.Context, d Destination) (*Manifest, string, error) {
	b, v, err := d.Load(ctx, manifestName)
	if errors.Is(err, ErrNotExist) {
		return &Manifest{Kind: "backup", Refs: map[string]string{}}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the manifest of %s: %w", d.URL(), err)
	}
	if IsEncrypted(b) {
		return nil, "", fmt.Errorf("%s: %w", d.URL(), ErrEncrypted)
	}
	if len(b) > maxManifestLen {
		return nil, "", corruptf(manifestName, "%d bytes", len(b))
	}
	m, err := decodeManifest(b)
	if err != nil {
		return nil, "", err
	}
	return m, v, nil
}

// sameRefs reports whether the manifest holds exactly refs.
func (m *Manifest) sameRefs(refs map[string]chunk.Hash) bool {
	if len(m.Refs) != len(refs) {
		return false
	}
	for name, h := range refs {
		if m.Refs[name] != h.String() {
			return false
		}
	}
	return true
}

// refRoots returns the hashes of refs, sorted by ref name.
func refRoots(refs map[string]chunk.Hash) []chunk.Hash {
	names := make([]string, 0, len(refs))
	for n := range refs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]chunk.Hash, 0, len(names))
	for _, n := range names {
		out = append(out, refs[n])
	}
	return out
}
