package remote

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golang.org/x/sync/errgroup"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/chunk/diskstore"
)

// A base is a file-level copy of the source's chunk store, written by the
// first sync to an empty destination when the source can snapshot itself as
// files (chunk.FileSnapshotter): its files are copied as they are, which is
// as fast as a file copy, instead of being walked chunk by chunk and packed.
// Later syncs add packs on top of it. Its objects:
//
//	base/ID/files/NAME   the snapshot's files, NAME as in the store's directory
//	base/ID/reach.idx    the chunks reachable from the base's refs, sorted
//
// The files hold every chunk the store held, garbage too, and garbage need
// not be whole (a collection may have deleted a child and kept its parent):
// what the files hold is no proof that what a chunk reaches is there. What
// the base's refs reach is (the snapshot holds it all). So the first sync
// after the base walks those refs in the source once, and records what it
// finds in reach.idx; every sync then skips what reach.idx or a pack names,
// as it skipped what a pack names before bases. The index is, big-endian:
// "cairnidx" | version u32 = 1 | count u32 | count × hash [20].
//
// The manifest records every object's size and CRC-32C: enough to catch
// damage before a restore installs a base; each chunk's content is proven by
// its hash whenever a store reads it, and by verify.
const (
	basePrefix      = "base/"
	baseIndexMagic  = "cairnidx"
	baseIndexVer    = 1
	baseIndexHeader = 16
)

// BaseRef is a manifest's base.
type BaseRef struct {
	ID    string     `json:"id"`
	Files []BaseFile `json:"files"`
	// Refs are the refs the base's files hold: the backup's refs when the
	// base was written.
	Refs map[string]string `json:"refs"`
	// Reach, once a later sync has written it, is reach.idx, and
	// ReachChunks the number of hashes it holds.
	Reach       *BaseFile `json:"reach,omitempty"`
	ReachChunks int       `json:"reach_chunks,omitempty"`
}

// BaseFile is one object of a base: a file of the store (Name as in its
// directory) or the index. CRC32C is the CRC-32C (Castagnoli) of its
// bytes, in hex.
type BaseFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	CRC32C string `json:"crc32c"`
}

var (
	baseIDPattern   = regexp.MustCompile(`^[0-9a-f]{8,64}$`)
	baseFilePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	crcPattern      = regexp.MustCompile(`^[0-9a-f]{8}$`)
	castagnoli      = crc32.MakeTable(crc32.Castagnoli)
)

func (b *BaseRef) fileObject(name string) string { return basePrefix + b.ID + "/files/" + name }
func (b *BaseRef) reachObject() string           { return basePrefix + b.ID + "/reach.idx" }

// bytes is the size of the base's files.
func (b *BaseRef) bytes() int64 {
	var n int64
	for _, f := range b.Files {
		n += f.Size
	}
	return n
}

// refHashes returns the base's refs as hashes.
func (b *BaseRef) refHashes() map[string]chunk.Hash {
	return parseRefs(b.Refs)
}

// check checks a base read from a manifest: it is untrusted input, and its
// file names become paths.
func (b *BaseRef) check() error {
	if !baseIDPattern.MatchString(b.ID) {
		return corruptf(manifestName, "bad base id %q", b.ID)
	}
	if len(b.Files) == 0 {
		return corruptf(manifestName, "the base has no files")
	}
	seen := map[string]bool{}
	for _, f := range b.Files {
		if !baseFilePattern.MatchString(f.Name) || seen[f.Name] || f.Size < 0 || !crcPattern.MatchString(f.CRC32C) {
			return corruptf(manifestName, "bad base file entry %q", f.Name)
		}
		seen[f.Name] = true
	}
	if err := checkRefs(b.Refs, "base ref"); err != nil {
		return err
	}
	if r := b.Reach; r != nil {
		if b.ReachChunks < 0 || r.Name != "reach.idx" || r.Size != baseIndexHeader+int64(b.ReachChunks)*chunk.HashSize || !crcPattern.MatchString(r.CRC32C) {
			return corruptf(manifestName, "bad base reach index entry")
		}
	}
	return nil
}

// encodeBaseIndex encodes sorted hashes as a base index.
func encodeBaseIndex(hashes []chunk.Hash) []byte {
	b := make([]byte, 0, baseIndexHeader+len(hashes)*chunk.HashSize)
	b = append(b, baseIndexMagic...)
	b = binary.BigEndian.AppendUint32(b, baseIndexVer)
	b = binary.BigEndian.AppendUint32(b, uint32(len(hashes)))
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	return b
}

// loadReach reads and checks the base's reach index, which must exist.
func loadReach(ctx context.Context, d Destination, b *BaseRef) ([]chunk.Hash, error) {
	name := b.reachObject()
	data, err := d.Get(ctx, name, 0, -1)
	if errors.Is(err, ErrNotExist) {
		return nil, &CorruptError{Object: name, Detail: "the base's reach index is missing"}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", name, d.URL(), err)
	}
	if err := checkObject(name, data, *b.Reach); err != nil {
		return nil, err
	}
	if string(data[:8]) != baseIndexMagic || binary.BigEndian.Uint32(data[8:]) != baseIndexVer || int(binary.BigEndian.Uint32(data[12:])) != b.ReachChunks {
		return nil, corruptf(name, "not an index of %d chunks", b.ReachChunks)
	}
	out := make([]chunk.Hash, b.ReachChunks)
	for i := range out {
		copy(out[i][:], data[baseIndexHeader+i*chunk.HashSize:])
		if i > 0 && out[i-1].Compare(out[i]) >= 0 {
			return nil, corruptf(name, "the hashes are not in order")
		}
	}
	return out, nil
}

// baseReach returns what the base's refs reach in src: every chunk found
// there, sorted. A chunk src no longer holds (collected since) is left out
// with what is below it; the base holds them all the same, and a ref that
// reaches them now finds them in src and sends them again.
func baseReach(ctx context.Context, src chunk.Store, b *BaseRef) ([]chunk.Hash, error) {
	seen := make(chunk.HashSet)
	var queue []chunk.Hash
	for _, h := range refRoots(b.refHashes()) {
		if !h.IsZero() && !seen.Has(h) {
			seen.Add(h)
			queue = append(queue, h)
		}
	}
	var found []chunk.Hash
	for len(queue) > 0 {
		n := min(len(queue), 16384)
		batch := queue[:n]
		queue = queue[n:]
		err := src.GetMany(ctx, batch, func(c chunk.Chunk) error {
			env, err := chunk.Decode(c.Hash, c.Data)
			if err != nil {
				return err
			}
			found = append(found, c.Hash)
			for i := 0; i < env.NumRefs(); i++ {
				if r := env.Ref(i); !seen.Has(r) {
					seen.Add(r)
					queue = append(queue, r)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk the refs of the base: %w", err)
		}
	}
	slices.SortFunc(found, chunk.Hash.Compare)
	return found, nil
}

// putReach writes the reach index of hashes (sorted) and records it in b.
func putReach(ctx context.Context, d Destination, b *BaseRef, hashes []chunk.Hash) (int64, error) {
	data := encodeBaseIndex(hashes)
	if err := d.Put(ctx, b.reachObject(), bytes.NewReader(data), int64(len(data))); err != nil {
		return 0, fmt.Errorf("write %s to %s: %w", b.reachObject(), d.URL(), err)
	}
	b.Reach = &BaseFile{Name: "reach.idx", Size: int64(len(data)), CRC32C: crcHex(crc32.Checksum(data, castagnoli))}
	b.ReachChunks = len(hashes)
	return int64(len(data)), nil
}

// checkObject checks data against the size and CRC the manifest gives.
func checkObject(name string, data []byte, f BaseFile) error {
	return checkSum(name, int64(len(data)), crc32.Checksum(data, castagnoli), f)
}

// checkSum checks an object's size n and CRC against the manifest's.
func checkSum(name string, n int64, crc uint32, f BaseFile) error {
	if n != f.Size {
		return corruptf(name, "%d bytes, the manifest says %d", n, f.Size)
	}
	if crcHex(crc) != f.CRC32C {
		return corruptf(name, "its CRC-32C is not the one the manifest gives")
	}
	return nil
}

func crcHex(crc uint32) string { return fmt.Sprintf("%08x", crc) }

// crcFile returns the CRC-32C and size of the file at path. It reads the
// file through a memory map where it can: the page cache's pages are then
// summed in place rather than copied first.
func crcFile(path string) (uint32, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 && int64(int(fi.Size())) == fi.Size() {
		if m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED); err == nil {
			unix.Madvise(m, unix.MADV_SEQUENTIAL)
			crc := crc32.Checksum(m, castagnoli)
			if err := unix.Munmap(m); err != nil {
				return 0, 0, err
			}
			return crc, fi.Size(), nil
		}
	}
	buf := make([]byte, 1<<20)
	var crc uint32
	var n int64
	for {
		k, err := f.Read(buf)
		crc = crc32.Update(crc, castagnoli, buf[:k])
		n += int64(k)
		if err == io.EOF {
			return crc, n, nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}

// newBaseID returns a fresh base id.
func newBaseID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// uploadBase copies the files of snap to d as a new base, a few files at a
// time. The objects are named by no manifest until the caller writes one.
func uploadBase(ctx context.Context, snap *chunk.FileSnapshot, d Destination, rep *reporter, st *SyncStats) (*BaseRef, error) {
	b := &BaseRef{ID: newBaseID()}
	type job struct {
		name string
		size int64
	}
	var jobs []job
	var total int64
	for _, name := range snap.Files {
		if !baseFilePattern.MatchString(name) {
			return nil, fmt.Errorf("the store's snapshot holds a file cairn cannot name at a destination: %q", name)
		}
		fi, err := os.Stat(filepath.Join(snap.Dir, name))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job{name, fi.Size()})
		total += fi.Size()
	}
	// The largest first, so that the workers end together.
	slices.SortStableFunc(jobs, func(a, b job) int { return cmp.Compare(b.size, a.size) })

	// Twice as many workers as cores to a local destination, whose copies
	// wait for the disk as much as they work; one per core elsewhere,
	// where each holds a file in memory.
	workers := runtime.GOMAXPROCS(0)
	lo, local := d.(localObjects)
	if local {
		workers *= 2
	}
	var (
		mu          sync.Mutex
		files       = make([]BaseFile, 0, len(jobs))
		stagedFiles []*staged
		done        atomic.Int64
	)
	defer func() {
		for _, st := range stagedFiles {
			st.discard() // those not published
		}
	}()
	upload := func(ctx context.Context, j job) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(snap.Dir, j.name)
		crc, n, err := crcFile(path)
		if err == nil && n != j.size {
			err = fmt.Errorf("%s changed size while the sync read it", path)
		}
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		// The file itself, not a wrapper: a file:// destination has the
		// kernel copy it.
		if local {
			var st *staged
			if st, err = lo.stage(ctx, b.fileObject(j.name), f, j.size); err == nil {
				mu.Lock()
				stagedFiles = append(stagedFiles, st)
				mu.Unlock()
			}
		} else {
			err = d.Put(ctx, b.fileObject(j.name), f, j.size)
		}
		if err != nil {
			return fmt.Errorf("write %s to %s: %w", b.fileObject(j.name), d.URL(), err)
		}
		done.Add(j.size)
		mu.Lock()
		files = append(files, BaseFile{Name: j.name, Size: j.size, CRC32C: crcHex(crc)})
		mu.Unlock()
		rep.report(Progress{Phase: "uploading", Bytes: done.Load(), TotalBytes: total}, false)
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, j := range jobs {
		g.Go(func() error { return upload(gctx, j) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if local {
		if err := publishStaged(stagedFiles); err != nil {
			return nil, fmt.Errorf("write the base to %s: %w", d.URL(), err)
		}
	}
	rep.report(Progress{Phase: "uploading", Bytes: total, TotalBytes: total}, true)
	slices.SortFunc(files, func(a, b BaseFile) int { return strings.Compare(a.Name, b.Name) })
	b.Files = files
	b.Refs = refStrings(snap.Refs)
	st.Files = len(files)
	st.Bytes = total
	st.Uploaded += total
	return b, nil
}

// placeBase writes the base's files into dir, which it creates, checking
// each against the manifest's size and SHA-256, and syncs them and dir: dir
// is then the directory of a store holding the base, to be opened. It
// reports the bytes it has written to done.
func placeBase(ctx context.Context, d Destination, b *BaseRef, dir string, done *atomic.Int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The largest first, so that the workers end together.
	files := slices.Clone(b.Files)
	slices.SortStableFunc(files, func(x, y BaseFile) int { return cmp.Compare(y.Size, x.Size) })
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, f := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := placeFile(gctx, d, b, f, dir); err != nil {
				return err
			}
			done.Add(f.Size)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return syncFiles(dir, files)
}

// publishStaged syncs staged files all at once (the file system commits
// its journal once for those that wait together), names them, and syncs
// their directories.
func publishStaged(files []*staged) error {
	if err := together(len(files), func(i int) error { return files[i].sync() }); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, st := range files {
		if err := st.publish(); err != nil {
			return err
		}
		dirs[filepath.Dir(st.path)] = true
	}
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// syncFiles fsyncs the named files of dir, all at once (the file system
// commits its journal once for those that wait together), then dir.
func syncFiles(dir string, files []BaseFile) error {
	err := together(len(files), func(i int) error {
		f, err := os.Open(filepath.Join(dir, files[i].Name))
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// together runs fn(i) for i in [0, n), up to 16 at a time: fsyncs that
// wait together share the file system's journal commits.
func together(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// localObjects is a Destination whose objects are files on this machine:
// a sync and a restore have the kernel copy them (copy_file_range), and a
// sync stages a base's files and syncs them all at once.
type localObjects interface {
	objectFile(name string) (*os.File, error)
	stage(ctx context.Context, name string, r io.Reader, size int64) (*staged, error)
	pruneTemps(prefix string, cutoff time.Time) (int, error)
}

// placeFile reads one file of the base and writes it into dir, and starts
// writing it to disk: the caller syncs it.
func placeFile(ctx context.Context, d Destination, b *BaseRef, f BaseFile, dir string) error {
	name := b.fileObject(f.Name)
	var data []byte
	var src *os.File
	var err error
	if lo, ok := d.(localObjects); ok {
		src, err = lo.objectFile(name)
		if src != nil {
			defer src.Close()
		}
	} else {
		data, err = d.Get(ctx, name, 0, -1)
	}
	if errors.Is(err, ErrNotExist) {
		return &CorruptError{Object: name, Detail: "the file is missing"}
	}
	if err != nil {
		return fmt.Errorf("read %s from %s: %w", name, d.URL(), err)
	}
	if src == nil {
		if err := checkObject(name, data, f); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, f.Name)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	if src != nil {
		if _, err := out.ReadFrom(&io.LimitedReader{R: src, N: f.Size + 1}); err != nil {
			return err
		}
		startWriteback(out)
		// What was written is what is checked.
		crc, n, err := crcFile(path)
		if err != nil {
			return err
		}
		if err := checkSum(name, n, crc, f); err != nil {
			return err
		}
	} else {
		if _, err := out.Write(data); err != nil {
			return err
		}
		startWriteback(out)
	}
	return out.Close()
}

// startWriteback has the kernel start writing f to disk: it does so while
// the next files are copied, and the fsync at the end waits for little.
func startWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// baseCopy is a base read whole into a temporary directory and opened
// there as a store, for those that read its chunks one by one.
type baseCopy struct {
	*diskstore.Store
	tmp string
}

// openBaseCopy places b in a new temporary directory and opens it. A base
// whose files are damaged or do not open gives a CorruptError.
func openBaseCopy(ctx context.Context, d Destination, b *BaseRef, done *atomic.Int64) (*baseCopy, error) {
	tmp, err := os.MkdirTemp("", "cairn-base-")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "store")
	if err := placeBase(ctx, d, b, dir, done); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	store, err := diskstore.Open(dir, diskstore.Options{CheckpointSize: -1, CacheSize: 32 << 20})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, &CorruptError{Object: basePrefix + b.ID, Detail: fmt.Sprintf("its files do not open as a store: %v", err)}
	}
	return &baseCopy{Store: store, tmp: tmp}, nil
}

// close closes the copy and removes its files.
func (c *baseCopy) close() {
	c.Store.Close()
	os.RemoveAll(c.tmp)
}

// scanBase is the scanner's reading of a base it has not placed where the
// restored store will be: it places it in a temporary directory, opens it
// as a store and reads every chunk it holds, checking each against its hash
// as the store reads it, and checks that the reach index, if any, names
// only chunks the files hold.
func (s *scanner) scanBase(ctx context.Context, done *atomic.Int64) error {
	b := s.m.Base
	store, err := openBaseCopy(ctx, s.d, b, done)
	if err != nil {
		if errors.Is(err, chunk.ErrCorruption) {
			return s.problem(err)
		}
		return err
	}
	defer store.close()
	var reach []chunk.Hash
	if b.Reach != nil {
		var err error
		if reach, err = loadReach(ctx, s.d, b); err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				return err
			}
			if err := s.problem(err); err != nil {
				return err
			}
		}
	}
	var hashes []chunk.Hash
	if err := store.ForEachChunk(ctx, func(h chunk.Hash, _ uint64) error {
		hashes = append(hashes, h)
		return nil
	}); err != nil {
		return s.problem(&CorruptError{Object: basePrefix + b.ID, Detail: err.Error()})
	}
	slices.SortFunc(hashes, chunk.Hash.Compare)
	for _, h := range reach {
		if _, ok := slices.BinarySearchFunc(hashes, h, chunk.Hash.Compare); !ok {
			if err := s.problem(&CorruptError{Object: b.reachObject(), Chunk: h, Detail: "the reach index names a chunk the base's files do not hold"}); err != nil {
				return err
			}
		}
	}
	const batch = 4096
	for i := 0; i < len(hashes); i += batch {
		part := hashes[i:min(i+batch, len(hashes))]
		err := store.GetMany(ctx, part, func(c chunk.Chunk) error { return s.add(basePrefix+b.ID, c) })
		if err != nil {
			if !errors.Is(err, chunk.ErrCorruption) {
				return err
			}
			if err := s.problem(&CorruptError{Object: basePrefix + b.ID, Detail: err.Error()}); err != nil {
				return err
			}
		}
	}
	return nil
}
