package diskstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The journal keeps committed chunks out of Pebble until a checkpoint; see
// "Journal" in the package documentation and docs/write-path.md.
//
// File layout (all integers little-endian):
//
//	header: "cairnjnl", u32 version (1), u64 epoch
//	record: u32 payload length, u32 CRC-32C of the epoch and the payload,
//	        u64 epoch, payload
//	payload: uvarint n, n × (20-byte hash, uvarint length, bytes),
//	         uvarint m, m × (uvarint name length, name, 20-byte hash)
//
// A record is one commit group: the chunks it made reachable and the new
// value of every ref it changed (the zero hash for a deleted ref).
//
// The file is reused from one epoch to the next and written ahead with
// zeros, so that a record overwrites blocks the file already has and its
// fdatasync need not also write the file's size (on ext4 here: 0.15 ms a
// sync instead of 0.23). The records end at the first one of another epoch
// (left from an earlier one) or of length zero.

const (
	// checkpointBatch is the size of the Pebble batches a checkpoint
	// writes its chunks in: a quarter of a default memtable.
	checkpointBatch = 1 << 20

	journalName      = "cairn-journal"
	journalMagic     = "cairnjnl"
	journalVersion   = 1
	journalHeaderLen = len(journalMagic) + 4 + 8
	recordHeaderLen  = 16
	// zeroAhead is how far ahead of its records the file is written
	// with zeros.
	zeroAhead = 1 << 20
	// maxRecordLen bounds the length a record header may claim, so that a
	// damaged length cannot make replay allocate without limit.
	maxRecordLen = 1 << 31
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// memChunk is a chunk held in the overlay.
type memChunk struct {
	data []byte
	gen  uint64 // the generation current when it was last Put
	seq  uint64 // changes at every Put of the chunk
	// journaledIn is the overlay's epoch in which the chunk was journaled
	// (0: not since it was last Put). In the current epoch, the chunk is
	// in the journal file, and so is every chunk it references that is not
	// in Pebble.
	journaledIn uint64
	// inPebble means the last checkpoint wrote the chunk to Pebble; the
	// prune that follows drops it.
	inPebble bool
	// orphan means the last checkpoint found the chunk unreachable and
	// written before every live lease began. The next one drops it if
	// that still holds: a chunk never committed is dropped only after two
	// checkpoints found it garbage, which leaves a writer that holds no
	// lease (as GC's contract asks) the time between them to reference it.
	// A committed one is dropped by the first.
	orphan bool
}

// overlay holds the chunks Put since they were last checkpointed.
type overlay struct {
	mu sync.RWMutex
	// all holds every chunk.
	all chunkSet
	// epoch counts the checkpoints: one starts the journal over, and so
	// makes every chunk unjournaled at once (memChunk.journaledIn).
	epoch uint64
	// A commit's collect looks up every reference of the chunks it
	// journals, in the chunks that are not journaled: unjournaled holds
	// those Put and not journaled since, prevJournaled (until the prune
	// after a checkpoint has moved what stays of it to unjournaled) those
	// journaled in the epoch before. Both are small beside all, and their
	// filters answer most lookups, of chunks in Pebble or journaled,
	// without a map. journaled holds those journaled in this epoch, to be
	// the next prevJournaled. A chunk may stay in a set it no longer
	// belongs to until the next prune: lookups check its state.
	unjournaled, prevJournaled, journaled chunkSet
	bytes                                 int64 // sum of len(data)
	seq                                   uint64
}

func newOverlay() overlay {
	return overlay{
		all: newChunkSet(), unjournaled: newChunkSet(), prevJournaled: newChunkSet(),
		journaled: newChunkSet(), epoch: 1,
	}
}

// inJournal reports whether e is in the current journal file.
func (o *overlay) inJournal(e *memChunk) bool { return e.journaledIn == o.epoch }

// get returns the overlay's copy of h, or nil. The slice must not be modified.
func (o *overlay) get(h chunk.Hash) []byte {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if e := o.all.get(h); e != nil {
		return e.data
	}
	return nil
}

func (o *overlay) has(h chunk.Hash) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.all.get(h) != nil
}

// lacking returns the hashes the overlay does not hold.
func (o *overlay) lacking(hashes []chunk.Hash) []chunk.Hash {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.all.len() == 0 {
		return hashes
	}
	var out []chunk.Hash
	for _, h := range hashes {
		if o.all.get(h) == nil {
			out = append(out, h)
		}
	}
	return out
}

// split splits hashes into those the overlay lacks and copies of the chunks
// it holds, each once.
func (o *overlay) split(hashes []chunk.Hash) ([]chunk.Hash, []chunk.Chunk) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.all.len() == 0 {
		return hashes, nil
	}
	var rest []chunk.Hash
	var held []chunk.Chunk
	var seen chunk.HashSet
	for _, h := range hashes {
		e := o.all.get(h)
		if e == nil {
			rest = append(rest, h)
			continue
		}
		if seen == nil {
			seen = make(chunk.HashSet)
		}
		if !seen.Has(h) {
			seen.Add(h)
			held = append(held, chunk.Chunk{Hash: h, Data: bytes.Clone(e.data)})
		}
	}
	return rest, held
}

// stamped is a chunk's hash and generation.
type stamped struct {
	hash chunk.Hash
	gen  uint64
}

// stamps returns the hash and generation of every chunk held but those
// Pebble holds since the last checkpoint (it lists them itself).
func (o *overlay) stamps() []stamped {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]stamped, 0, o.all.len())
	for h, e := range o.all.m {
		if !e.inPebble {
			out = append(out, stamped{h, e.gen})
		}
	}
	return out
}

// deleteBefore drops each of hashes held with a generation below before,
// for GC, and returns how many it dropped.
func (o *overlay) deleteBefore(hashes []chunk.Hash, before uint64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, h := range hashes {
		if e := o.all.get(h); e != nil && e.gen < before {
			o.drop(h, e)
			n++
		}
	}
	o.settle()
	return n
}

// drop removes h, held as e. The caller holds o.mu and calls settle.
func (o *overlay) drop(h chunk.Hash, e *memChunk) {
	o.all.del(h)
	o.unjournaled.del(h)
	o.prevJournaled.del(h)
	o.journaled.del(h)
	o.bytes -= int64(len(e.data))
}

// settle settles the overlay's sets after deletions (chunkSet.settle).
func (o *overlay) settle() {
	o.all.settle()
	o.unjournaled.settle()
	o.prevJournaled.settle()
	o.journaled.settle()
}

func (o *overlay) size() int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.bytes
}

// put adds chunks stamped with gen. A chunk already held is stamped again
// and is no longer counted as journaled: its children may be new chunks the
// journal lacks (the same subtree rebuilt after part of it was collected).
// owned: nobody changes the chunks' bytes, which are kept without a copy.
func (o *overlay) put(chunks []chunk.Chunk, gen uint64, owned bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range chunks {
		o.seq++
		if e := o.all.get(c.Hash); e != nil {
			e.gen, e.seq, e.journaledIn, e.orphan, e.inPebble = gen, o.seq, 0, false, false
			o.unjournaled.add(c.Hash, e)
			continue
		}
		data := c.Data
		if !owned {
			data = bytes.Clone(data)
		}
		e := &memChunk{data: data, gen: gen, seq: o.seq}
		o.all.add(c.Hash, e)
		o.unjournaled.add(c.Hash, e)
		o.bytes += int64(len(c.Data))
	}
}

// pending is an overlay chunk a commit or checkpoint is writing elsewhere.
type pending struct {
	hash chunk.Hash
	data []byte
	seq  uint64
	e    *memChunk // the overlay's entry (nil for a chunk not from it)
}

// collect returns the overlay chunks reachable from roots through overlay
// chunks, descending into journaled ones only if all is set. Chunks not in
// the overlay end the descent: they are in Pebble.
func (o *overlay) collect(roots []chunk.Hash, all bool) []pending {
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []pending
	seen := make(chunk.HashSet)
	var stack []*memChunk
	var hashes []chunk.Hash
	lookup := func(h chunk.Hash) *memChunk {
		if e := o.unjournaled.get(h); e != nil {
			return e
		}
		return o.prevJournaled.get(h)
	}
	if all {
		lookup = o.all.get
	}
	push := func(h chunk.Hash) {
		e := lookup(h)
		if e == nil || e.inPebble || !all && o.inJournal(e) {
			return
		}
		if !seen.Has(h) {
			seen.Add(h)
			stack = append(stack, e)
			hashes = append(hashes, h)
		}
	}
	for _, h := range roots {
		push(h)
	}
	for len(stack) > 0 {
		e, h := stack[len(stack)-1], hashes[len(hashes)-1]
		stack, hashes = stack[:len(stack)-1], hashes[:len(hashes)-1]
		out = append(out, pending{hash: h, data: e.data, seq: e.seq, e: e})
		// A chunk that is not an envelope references nothing the store
		// knows of (the store takes any bytes; walks reject them).
		if env, err := chunk.Decode(h, e.data); err == nil {
			for i := 0; i < env.NumRefs(); i++ {
				push(env.Ref(i))
			}
		}
	}
	return out
}

// markJournaled records that the chunks of a synced record are journaled,
// except those Put again since they were collected.
func (o *overlay) markJournaled(chunks []pending) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range chunks {
		if p.e.seq == p.seq {
			p.e.journaledIn = o.epoch
			o.unjournaled.del(p.hash)
			o.journaled.add(p.hash, p.e)
		}
	}
	o.unjournaled.settle()
}

// remove drops chunks written to Pebble, unless Put again since collected.
func (o *overlay) remove(chunks []pending) {
	if len(chunks) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range chunks {
		if e := o.all.get(p.hash); e != nil && e.seq == p.seq {
			o.drop(p.hash, e)
		}
	}
	o.settle()
}

// wrote ends a checkpoint's hold on the overlay: it marks the chunks the
// checkpoint wrote to Pebble (unless Put again since collected), which
// collect then passes over, and starts a new epoch, in which no chunk is
// journaled yet. Both take a step per chunk written, not per chunk held:
// dropping what Pebble now holds and the garbage is left to prune, which
// commits need not wait for.
func (o *overlay) wrote(written []pending) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range written {
		if p.e.seq == p.seq {
			p.e.inPebble = true
		}
	}
	// The prune before the checkpoint emptied prevJournaled.
	o.prevJournaled, o.journaled = o.journaled, o.prevJournaled
	o.epoch++
}

// pruneStep is how many chunks prune looks at per hold of the lock.
const pruneStep = 512

// prune follows wrote: it drops the chunks the checkpoint wrote to Pebble,
// and the orphans (unreachable at the checkpoint and written before
// keepFrom) that were journaled in an earlier epoch or that the checkpoint
// before found orphaned too. It holds the lock for pruneStep chunks at a
// time, so commits go on meanwhile; a chunk journaled since the checkpoint
// is reachable from the refs and stays. It returns the bytes that stay.
func (o *overlay) prune(keepFrom uint64) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for h, e := range o.all.m {
		if n++; n%pruneStep == 0 {
			o.mu.Unlock()
			o.mu.Lock()
		}
		switch {
		case e.inPebble:
			o.drop(h, e)
			continue
		case o.inJournal(e):
			continue
		case e.gen < keepFrom:
			// A journaled orphan was committed and then replaced: no
			// writer can still be about to reference it without a lease.
			if e.orphan || e.journaledIn != 0 {
				o.drop(h, e)
				continue
			}
			e.orphan = true
		default:
			e.orphan = false
		}
		if e.journaledIn != 0 {
			// Journaled in an earlier epoch, not since.
			o.unjournaled.add(h, e)
		}
	}
	// Whatever stays of prevJournaled is in unjournaled now.
	o.prevJournaled = newChunkSet()
	o.settle()
	return o.bytes
}

// journal is the open journal file. Only the commit leader writes it (a
// commit group, a checkpoint), or Open and Close.
type journal struct {
	fs     vfs.FS
	dir    string
	f      vfs.File
	epoch  uint64
	size   int64 // the end of the last record
	zeroed int64 // the file's length: bytes past size are zeros or old records
	buf    []byte
}

func (j *journal) path() string { return j.fs.PathJoin(j.dir, journalName) }

// reset starts the journal over at epoch: it rewrites the header, synced,
// and leaves the file's records to be overwritten (they are of an earlier
// epoch). Pebble already holds everything they held, and its epoch key says
// so, so a crash at any point here leaves a journal that Open ignores.
func (j *journal) reset(epoch uint64) error {
	if j.f == nil {
		f, err := j.fs.OpenReadWrite(j.path(), vfs.WriteCategoryUnspecified)
		if err != nil {
			return fmt.Errorf("open journal: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("stat journal: %w", err)
		}
		// The directory entry, if the file was just created.
		d, err := j.fs.OpenDir(j.dir)
		if err == nil {
			err = d.Sync()
			d.Close()
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("sync store directory: %w", err)
		}
		j.f, j.zeroed = f, st.Size()
	}
	hdr := make([]byte, 0, journalHeaderLen)
	hdr = append(hdr, journalMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, journalVersion)
	hdr = binary.LittleEndian.AppendUint64(hdr, epoch)
	if _, err := j.f.WriteAt(hdr, 0); err != nil {
		return fmt.Errorf("write journal header: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	j.epoch, j.size = epoch, int64(journalHeaderLen)
	j.zeroed = max(j.zeroed, j.size)
	return nil
}

// close closes the file.
func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// records reports whether the journal holds any record.
func (j *journal) records() bool { return j.f != nil && j.size > int64(journalHeaderLen) }

// write writes one record, unsynced. Only the commit leader writes.
func (j *journal) write(chunks []pending, refs []chunk.RefUpdate) error {
	b := j.buf[:0]
	b = append(b, make([]byte, recordHeaderLen)...)
	binary.LittleEndian.PutUint64(b[8:], j.epoch)
	b = binary.AppendUvarint(b, uint64(len(chunks)))
	for _, c := range chunks {
		b = append(b, c.hash[:]...)
		b = binary.AppendUvarint(b, uint64(len(c.data)))
		b = append(b, c.data...)
	}
	b = binary.AppendUvarint(b, uint64(len(refs)))
	for _, r := range refs {
		b = binary.AppendUvarint(b, uint64(len(r.Name)))
		b = append(b, r.Name...)
		b = append(b, r.New[:]...)
	}
	payload := b[recordHeaderLen:]
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[8:], crcTable))
	n := int64(len(b))
	if err := j.zeroTo(j.size + n + zeroAhead); err != nil {
		return err
	}
	// vfs.File's writes may modify their argument; b is rebuilt for each
	// record.
	if _, err := j.f.WriteAt(b, j.size); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	j.size += n
	if cap(b) <= 4<<20 {
		j.buf = b
	}
	return nil
}

// zeroTo writes zeros from the file's end to at least end, a megabyte at a
// time, when the file is shorter. The record written next syncs them.
func (j *journal) zeroTo(end int64) error {
	if j.zeroed >= end {
		return nil
	}
	zeros := make([]byte, zeroAhead)
	for j.zeroed < end {
		if _, err := j.f.WriteAt(zeros, j.zeroed); err != nil {
			return fmt.Errorf("extend journal: %w", err)
		}
		j.zeroed += zeroAhead
	}
	return nil
}

// replayed is what a journal held.
type replayed struct {
	chunks []chunk.Chunk
	refs   []chunk.RefUpdate // in order; Old is unused
}

// readJournal reads the journal in dir if it is of epoch. A missing file, a
// file too short for a header and a journal of another epoch hold nothing:
// Pebble already has whatever they held. A torn last record (a crash while
// it was written, before its sync returned) ends the journal; a record that
// fails its checksum followed by a good one is corruption.
func readJournal(fs vfs.FS, dir string, epoch uint64) (replayed, error) {
	var out replayed
	path := fs.PathJoin(dir, journalName)
	f, err := fs.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("open journal: %w", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return out, fmt.Errorf("read journal: %w", err)
	}
	if len(data) < journalHeaderLen {
		return out, nil
	}
	if string(data[:len(journalMagic)]) != journalMagic {
		return out, &chunk.CorruptionError{File: path, Detail: "not a journal (bad magic)"}
	}
	if v := binary.LittleEndian.Uint32(data[len(journalMagic):]); v != journalVersion {
		return out, fmt.Errorf("journal version %d, want %d: %w", v, journalVersion, ErrUnknownFormat)
	}
	if e := binary.LittleEndian.Uint64(data[len(journalMagic)+4:]); e != epoch {
		return out, nil
	}
	rest := data[journalHeaderLen:]
	off := int64(journalHeaderLen)
	for {
		n, ok := recordAt(rest, epoch)
		if !ok {
			break // the end: zeros, a record of an earlier epoch, or a torn header
		}
		if n > int64(len(rest)-recordHeaderLen) {
			break // a torn record: its length runs past the file's end
		}
		next := rest[recordHeaderLen+n:]
		if !checksumOK(rest, n) {
			// The last record, torn by a crash, unless a good record of
			// this epoch follows somewhere (its length may be the damage).
			for i := 1; i+recordHeaderLen <= len(rest); i++ {
				if m, ok := recordAt(rest[i:], epoch); ok && m <= int64(len(rest)-i-recordHeaderLen) && checksumOK(rest[i:], m) {
					return out, &chunk.CorruptionError{File: path, Detail: fmt.Sprintf("journal record at offset %d fails its checksum", off)}
				}
			}
			break
		}
		if err := decodeRecord(rest[recordHeaderLen:recordHeaderLen+n], &out); err != nil {
			return out, &chunk.CorruptionError{File: path, Detail: fmt.Sprintf("journal record at offset %d: %v", off, err)}
		}
		off += recordHeaderLen + n
		rest = next
	}
	return out, nil
}

// checksumOK reports whether the record at the start of b, of payload
// length n, matches its checksum.
func checksumOK(b []byte, n int64) bool {
	return crc32.Checksum(b[8:recordHeaderLen+n], crcTable) == binary.LittleEndian.Uint32(b[4:])
}

// recordAt returns the payload length of the record of epoch at the start
// of b, and false if b does not start with one: b is too short for a header,
// or the header is of length zero or of another epoch.
func recordAt(b []byte, epoch uint64) (int64, bool) {
	if len(b) < recordHeaderLen {
		return 0, false
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if n == 0 || n > maxRecordLen || binary.LittleEndian.Uint64(b[8:]) != epoch {
		return 0, false
	}
	return n, true
}

// decodeRecord appends a record's chunks and refs to out, checking each
// chunk against its hash.
func decodeRecord(p []byte, out *replayed) error {
	r := bytes.NewReader(p)
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("chunk count: %w", err)
	}
	for range n {
		var h chunk.Hash
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return fmt.Errorf("chunk hash: %w", err)
		}
		l, err := binary.ReadUvarint(r)
		if err != nil || l > uint64(r.Len()) {
			return fmt.Errorf("chunk %s: bad length", h)
		}
		data := make([]byte, l)
		io.ReadFull(r, data)
		if err := chunk.Verify(h, data); err != nil {
			return err
		}
		out.chunks = append(out.chunks, chunk.Chunk{Hash: h, Data: data})
	}
	m, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("ref count: %w", err)
	}
	for range m {
		l, err := binary.ReadUvarint(r)
		if err != nil || l > chunk.MaxRefNameLen || l > uint64(r.Len()) {
			return errors.New("bad ref name length")
		}
		name := make([]byte, l)
		io.ReadFull(r, name)
		var h chunk.Hash
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return fmt.Errorf("ref %q: %w", name, err)
		}
		out.refs = append(out.refs, chunk.RefUpdate{Name: string(name), New: h})
	}
	if r.Len() != 0 {
		return fmt.Errorf("%d bytes after the last ref", r.Len())
	}
	return nil
}

// journaling reports whether the store keeps committed chunks in its
// overlay and journal rather than writing them to Pebble at once. It does
// not change once the store is open.
func (s *Store) journaling() bool { return s.opts.CheckpointSize > 0 }

// needCheckpoint reports whether the overlay has grown enough since the
// last checkpoint to write it out.
func (s *Store) needCheckpoint() bool {
	if !s.journaling() {
		return false
	}
	limit := s.opts.CheckpointSize
	return s.jrnl.size >= limit || s.ov.size() >= s.keptAfterCheckpoint.Load()+limit
}

// checkpoint writes to Pebble every overlay chunk reachable from the refs
// and the live leases, with the refs and the next journal epoch, in one
// synced batch; then starts the journal over and drops from the overlay
// what Pebble now holds and what nothing can reach any more. The caller is
// the commit leader (or Open or Close), so the refs do not change under it;
// Puts and reads go on. advance starts a new generation first, so that
// the chunks of transactions that ended can be found garbage.
func (s *Store) checkpoint(advance bool) error {
	s.pruneOverlay() // the last checkpoint's, if it has not run yet
	gen := s.gen.Load()
	if advance {
		var err error
		if gen, err = s.advanceGeneration(); err != nil {
			return err
		}
	}
	refs := *s.refs.Load()
	roots, _ := s.leases.Snapshot()
	for _, h := range refs {
		roots = append(roots, h)
	}
	live := s.ov.collect(roots, true)

	s.putMu.RLock()
	err := s.putPebble(live)
	b := s.db.NewBatch()
	for name := range s.pebbleRefs {
		if _, ok := refs[name]; !ok {
			b.Delete(refKey(name), nil)
		}
	}
	for name, h := range refs {
		if s.pebbleRefs[name] != h {
			b.Set(refKey(name), h[:], nil)
		}
	}
	epoch := s.jrnl.epoch + 1
	b.Set(keyEpoch, binary.AppendUvarint(nil, epoch), nil)
	if err == nil {
		err = s.awaitRoom()
	}
	if err == nil {
		err = s.commit(b, pebble.Sync)
	}
	b.Close()
	s.putMu.RUnlock()
	if err != nil {
		s.breakStore(err)
		return fmt.Errorf("checkpoint: %w", err)
	}
	s.pebbleRefs = refs
	if err := s.jrnl.reset(epoch); err != nil {
		s.breakStore(err)
		return fmt.Errorf("checkpoint: %w", err)
	}
	s.pruneMu.Lock()
	s.ov.wrote(live)
	s.prunePending, s.pruneGen = true, gen
	s.pruneMu.Unlock()
	// Until the prune, the overlay still counts what it will drop.
	s.keptAfterCheckpoint.Store(s.ov.size())
	return nil
}

// pruneOverlay runs the prune the last checkpoint left (overlay.prune), if
// it has not run yet. What it keeps of the chunks written since the oldest
// live lease began is what the leases live now protect: a chunk the
// checkpoint found unreachable can only be reachable again through a
// writer that holds a lease (and, once it has committed, through the
// journal), so leases released since the checkpoint protect nothing, and
// later ones began in its generation or after.
func (s *Store) pruneOverlay() {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	if !s.prunePending {
		return
	}
	keepFrom := min(s.pruneGen, s.leases.Oldest())
	s.keptAfterCheckpoint.Store(s.ov.prune(keepFrom))
	s.prunePending = false
}

// awaitLeasesFrom waits, for at most maxLeaseWait, until no lease older
// than generation gen is live. The checkpoint after commits advances the
// generation and waits for this before its prune: the transactions running
// through the checkpoint hold leases of the generation before, which would
// keep every chunk the commits since the checkpoint before replaced, for
// one more checkpoint, in the sets a commit looks its references up in.
// They end within milliseconds.
func (s *Store) awaitLeasesFrom(gen uint64) {
	deadline := time.Now().Add(maxLeaseWait)
	for s.leases.Oldest() < gen && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// maxLeaseWait bounds awaitLeasesFrom: a long transaction or a backup holds
// its lease for longer, and the prune keeps what it protects.
const maxLeaseWait = 100 * time.Millisecond

// pendingBytes is the size of chunks.
func pendingBytes(chunks []pending) int64 {
	var n int64
	for _, c := range chunks {
		n += int64(len(c.data))
	}
	return n
}

// moveToPebble writes chunks to Pebble with every overlay chunk reachable
// from roots, which then leave the overlay. No chunk in Pebble may reference
// one only the overlay holds: commits and checkpoints walk the overlay only,
// and would miss it. The next commit syncs Pebble's log before it journals a
// record that may reference these chunks. The caller holds putMu shared.
func (s *Store) moveToPebble(chunks []pending, roots []chunk.Hash) error {
	moved := s.ov.collect(roots, true)
	if err := s.putPebble(append(chunks, moved...)); err != nil {
		return err
	}
	// Set before the moved chunks leave the overlay, so a commit that no
	// longer finds them there syncs.
	s.pebbleDirty.Store(true)
	s.ov.remove(moved)
	return nil
}

// putPebble writes chunks to Pebble, unsynced, stamped with the current
// generation, in batches of at most a quarter of a memtable, waiting for
// room before each. (A batch much larger than a memtable would take
// Pebble's large-batch path, which rotates its log inside the commit; on a
// full disk that failure ends the process.) The caller holds putMu shared.
func (s *Store) putPebble(chunks []pending) error {
	limit := min(checkpointBatch, s.opts.MemTableSize/4)
	stamp := s.gen.Load()
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	var val []byte
	for i, c := range chunks {
		val = appendValue(val[:0], c.data, stamp)
		b.Set(chunkKey(c.hash), val, nil)
		if uint64(b.Len()) < limit && i < len(chunks)-1 {
			continue
		}
		if err := s.awaitRoom(); err != nil {
			return err
		}
		if err := s.commit(b, pebble.NoSync); err != nil {
			return err
		}
		b.Close()
		b = s.db.NewBatch()
	}
	return nil
}

// awaitRoom waits until Pebble can take a batch of up to a quarter of a
// memtable without stalling it: room for it in the memtables, and level 0
// well below the depth at which Pebble stops writes. A write that stalls
// waits for a flush or compaction, and once the disk is full those are
// parked until Close (parkingFS): the checkpoint, which holds up every
// commit, would never end. It returns the store's error if it breaks
// meanwhile.
func (s *Store) awaitRoom() error {
	for {
		if err := s.writable(); err != nil {
			return err
		}
		// Pebble stalls a write once its queued memtables reach twice
		// the memtable size (MemTableStopWritesThreshold); the batches
		// are at most a quarter of one. (Waiting for less would wait
		// for ever: Pebble leaves a small memtable unflushed until the
		// next one fills.)
		m := s.db.Metrics()
		if m.MemTable.Size+s.opts.MemTableSize/4 < 2*s.opts.MemTableSize && m.Levels[0].Sublevels < l0StopWrites-4 {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// replayJournal loads what the journal of the store's epoch holds into the
// overlay and the refs, and checkpoints it, leaving an empty journal.
func (s *Store) replayJournal(epoch uint64) error {
	rec, err := readJournal(s.jrnl.fs, s.dir, epoch)
	if err != nil {
		return err
	}
	s.jrnl.epoch = epoch
	if len(rec.chunks) == 0 && len(rec.refs) == 0 {
		return nil
	}
	s.ov.put(rec.chunks, s.gen.Load(), false)
	next := maps.Clone(*s.refs.Load())
	for _, u := range rec.refs {
		if u.New.IsZero() {
			delete(next, u.Name)
		} else {
			next[u.Name] = u.New
		}
	}
	s.refs.Store(&next)
	return nil
}
