package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/cairndb/cairn/storage/chunk"
)

// A pack is an immutable file of chunks (docs/backups.md):
//
//	header   "cairnpak" | version u32 | reserved u32                 16 bytes
//	records  for each chunk: codec u8 | payload (raw or zstd)
//	index    for each chunk, sorted by hash:
//	         hash [20] | record offset u64 | record length u32 | chunk length u32
//	footer   index offset u64 | chunk count u32 | version u32 |
//	         SHA-256 of every byte before the footer [32] | "cairnpak"   56 bytes
//
// Integers are big-endian. A pack is named packs/HEX.pack, HEX being the
// first 20 bytes of its checksum in hex, so its name vouches for its bytes.
const (
	packMagic      = "cairnpak"
	packVersion    = 1
	packHeaderLen  = 16
	packEntryLen   = chunk.HashSize + 8 + 4 + 4
	packFooterLen  = 8 + 4 + 4 + 32 + 8 // the last 32 + 8: checksum and magic
	packPrefix     = "packs/"
	packSuffix     = ".pack"
	codecRaw       = 0
	codecZstd      = 1
	maxChunkLen    = 64 << 20 // larger chunks in a pack are corruption
	maxPackEntries = 1 << 26
)

// packEntry is one chunk's place in a pack.
type packEntry struct {
	hash   chunk.Hash
	offset uint64 // of its record
	length uint32 // of its record, codec byte included
	rawLen uint32 // of the chunk
}

// zstd encoders and decoders are safe for concurrent EncodeAll and
// DecodeAll calls; one of each serves the process.
var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

func codecs() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		zstdEnc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err)
		}
		zstdDec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxChunkLen))
		if err != nil {
			panic(err)
		}
	})
	return zstdEnc, zstdDec
}

// packWriter builds a pack in memory.
type packWriter struct {
	buf     bytes.Buffer
	entries []packEntry
	rawLen  int64
	scratch []byte
}

func newPackWriter() *packWriter {
	w := &packWriter{}
	var hdr [packHeaderLen]byte
	copy(hdr[:], packMagic)
	binary.BigEndian.PutUint32(hdr[8:], packVersion)
	w.buf.Write(hdr[:])
	return w
}

// add appends chunk h with bytes data, compressed if that makes it smaller.
func (w *packWriter) add(h chunk.Hash, data []byte) {
	enc, _ := codecs()
	off := w.buf.Len()
	w.scratch = enc.EncodeAll(data, w.scratch[:0])
	if len(w.scratch) < len(data) {
		w.buf.WriteByte(codecZstd)
		w.buf.Write(w.scratch)
	} else {
		w.buf.WriteByte(codecRaw)
		w.buf.Write(data)
	}
	w.entries = append(w.entries, packEntry{hash: h, offset: uint64(off), length: uint32(w.buf.Len() - off), rawLen: uint32(len(data))})
	w.rawLen += int64(len(data))
}

// size is the pack's size so far.
func (w *packWriter) size() int { return w.buf.Len() }

// count is how many chunks the pack holds.
func (w *packWriter) count() int { return len(w.entries) }

// finish writes the index and footer and returns the pack's name and bytes.
func (w *packWriter) finish() (string, []byte) {
	sort.Slice(w.entries, func(i, j int) bool { return w.entries[i].hash.Compare(w.entries[j].hash) < 0 })
	indexOff := w.buf.Len()
	var e [packEntryLen]byte
	for _, ent := range w.entries {
		copy(e[:], ent.hash[:])
		binary.BigEndian.PutUint64(e[20:], ent.offset)
		binary.BigEndian.PutUint32(e[28:], ent.length)
		binary.BigEndian.PutUint32(e[32:], ent.rawLen)
		w.buf.Write(e[:])
	}
	sum := sha256.Sum256(w.buf.Bytes())
	var f [packFooterLen]byte
	binary.BigEndian.PutUint64(f[0:], uint64(indexOff))
	binary.BigEndian.PutUint32(f[8:], uint32(len(w.entries)))
	binary.BigEndian.PutUint32(f[12:], packVersion)
	copy(f[16:], sum[:])
	copy(f[16+sha256.Size:], packMagic)
	w.buf.Write(f[:])
	return packName(sum), w.buf.Bytes()
}

func packName(sum [sha256.Size]byte) string {
	return packPrefix + hex.EncodeToString(sum[:20]) + packSuffix
}

// isPackName reports whether name is the name of a pack.
func isPackName(name string) bool {
	hexPart, ok := strings.CutPrefix(name, packPrefix)
	if !ok {
		return false
	}
	hexPart, ok = strings.CutSuffix(hexPart, packSuffix)
	if !ok || len(hexPart) != 40 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

// packIndex is the index of one pack.
type packIndex struct {
	name    string
	size    int64
	entries []packEntry // sorted by hash
}

// CorruptError is damage found in a destination: a pack, the manifest or a
// chunk whose bytes are not what they must be.
type CorruptError struct {
	Object string     // the object at the destination
	Chunk  chunk.Hash // the chunk, if one is named
	Detail string
}

func (e *CorruptError) Error() string {
	if !e.Chunk.IsZero() {
		return fmt.Sprintf("backup is corrupt: chunk %s in %s: %s", e.Chunk, e.Object, e.Detail)
	}
	return fmt.Sprintf("backup is corrupt: %s: %s", e.Object, e.Detail)
}

// Unwrap makes a CorruptError match chunk.ErrCorruption.
func (e *CorruptError) Unwrap() error { return chunk.ErrCorruption }

func corruptf(object string, format string, args ...any) error {
	return &CorruptError{Object: object, Detail: fmt.Sprintf(format, args...)}
}

// parseFooter checks a pack's footer and returns the index offset, the
// chunk count and the checksum.
func parseFooter(name string, size int64, f []byte) (indexOff int64, count int, sum []byte, err error) {
	if len(f) != packFooterLen || string(f[packFooterLen-len(packMagic):]) != packMagic {
		return 0, 0, nil, corruptf(name, "no pack footer")
	}
	if v := binary.BigEndian.Uint32(f[12:]); v != packVersion {
		return 0, 0, nil, corruptf(name, "pack format version %d; this cairn reads version %d", v, packVersion)
	}
	indexOff = int64(binary.BigEndian.Uint64(f[0:]))
	count = int(binary.BigEndian.Uint32(f[8:]))
	if count > maxPackEntries || indexOff < packHeaderLen || indexOff+int64(count)*packEntryLen+packFooterLen != size {
		return 0, 0, nil, corruptf(name, "pack footer does not match its size (%d chunks, index at %d, %d bytes)", count, indexOff, size)
	}
	return indexOff, count, f[16 : 16+sha256.Size], nil
}

// parseIndex decodes and checks the index of a pack whose records end at
// indexOff.
func parseIndex(name string, size, indexOff int64, b []byte) (*packIndex, error) {
	n := len(b) / packEntryLen
	ix := &packIndex{name: name, size: size, entries: make([]packEntry, n)}
	for i := range n {
		e := b[i*packEntryLen:]
		ent := &ix.entries[i]
		copy(ent.hash[:], e[:20])
		ent.offset = binary.BigEndian.Uint64(e[20:])
		ent.length = binary.BigEndian.Uint32(e[28:])
		ent.rawLen = binary.BigEndian.Uint32(e[32:])
		switch {
		case i > 0 && ix.entries[i-1].hash.Compare(ent.hash) >= 0:
			return nil, corruptf(name, "pack index out of order at entry %d", i)
		case ent.offset < packHeaderLen || ent.length < 1 || ent.offset+uint64(ent.length) > uint64(indexOff):
			return nil, corruptf(name, "pack index entry %d points outside the records", i)
		case ent.rawLen > maxChunkLen:
			return nil, corruptf(name, "pack index entry %d: chunk of %d bytes", i, ent.rawLen)
		}
	}
	return ix, nil
}

// readPackIndex reads only the footer and index of pack name, of size bytes.
func readPackIndex(ctx context.Context, d Destination, name string, size int64) (*packIndex, error) {
	if size < packHeaderLen+packFooterLen {
		return nil, corruptf(name, "pack of %d bytes is too short", size)
	}
	f, err := d.Get(ctx, name, size-packFooterLen, packFooterLen)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	indexOff, count, _, err := parseFooter(name, size, f)
	if err != nil {
		return nil, err
	}
	b, err := d.Get(ctx, name, indexOff, int64(count)*packEntryLen)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return parseIndex(name, size, indexOff, b)
}

// parsePack checks a whole pack, its checksum and its name, and returns its
// index. Each chunk's own hash is checked when it is read (chunkAt).
func parsePack(name string, data []byte) (*packIndex, error) {
	size := int64(len(data))
	if size < packHeaderLen+packFooterLen {
		return nil, corruptf(name, "pack of %d bytes is too short", size)
	}
	if string(data[:len(packMagic)]) != packMagic {
		return nil, corruptf(name, "not a pack")
	}
	if v := binary.BigEndian.Uint32(data[8:]); v != packVersion {
		return nil, corruptf(name, "pack format version %d; this cairn reads version %d", v, packVersion)
	}
	indexOff, count, sum, err := parseFooter(name, size, data[size-packFooterLen:])
	if err != nil {
		return nil, err
	}
	got := sha256.Sum256(data[:size-packFooterLen])
	if !bytes.Equal(got[:], sum) {
		return nil, corruptf(name, "pack checksum mismatch")
	}
	if isPackName(name) && packName(got) != name {
		return nil, corruptf(name, "pack does not match its name")
	}
	return parseIndex(name, size, indexOff, data[indexOff:indexOff+int64(count)*packEntryLen])
}

// chunkAt decodes entry i of a pack whose bytes are data (the whole pack)
// and checks it against its hash.
func (ix *packIndex) chunkAt(data []byte, i int) (chunk.Chunk, error) {
	e := ix.entries[i]
	return decodeRecord(ix.name, e, data[e.offset:e.offset+uint64(e.length)])
}

// decodeRecord decodes the record of entry e (its bytes rec, read from pack
// name) and checks the chunk against its hash.
func decodeRecord(name string, e packEntry, rec []byte) (chunk.Chunk, error) {
	bad := func(format string, args ...any) error {
		return &CorruptError{Object: name, Chunk: e.hash, Detail: fmt.Sprintf(format, args...)}
	}
	if len(rec) == 0 || len(rec) != int(e.length) {
		return chunk.Chunk{}, bad("record of %d bytes, the index says %d", len(rec), e.length)
	}
	var out []byte
	switch rec[0] {
	case codecRaw:
		out = append([]byte(nil), rec[1:]...)
	case codecZstd:
		_, dec := codecs()
		var err error
		out, err = dec.DecodeAll(rec[1:], make([]byte, 0, e.rawLen))
		if err != nil {
			return chunk.Chunk{}, bad("cannot decompress: %v", err)
		}
	default:
		return chunk.Chunk{}, bad("unknown codec %d", rec[0])
	}
	if len(out) != int(e.rawLen) {
		return chunk.Chunk{}, bad("%d bytes, the index says %d", len(out), e.rawLen)
	}
	if err := chunk.Verify(e.hash, out); err != nil {
		return chunk.Chunk{}, bad("its bytes do not match its hash")
	}
	return chunk.Chunk{Hash: e.hash, Data: out}, nil
}
