package remote

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ParamEncryptionKeyFile is the destination param naming a file that holds
// the destination's encryption key. The key itself is never stored: not in
// the database's configuration, not at the destination.
const ParamEncryptionKeyFile = "encryption_key_file"

// Client-side encryption (docs/backups.md, "Encryption"). A destination
// with a key holds every object, packs, manifest and lock alike, in this
// form (version 1):
//
//	header: "CAIRNEC1" | key id (8) | salt (32) | plaintext size (8, big-endian)
//	blocks: the plaintext in blocks of cryptBlock bytes (the last shorter; an
//	        empty object has one empty block), each sealed with AES-256-GCM.
//
// Each object has its own key, derived from the master key and the
// object's random salt with HKDF-SHA256, so nonces (the block's index) never
// repeat under one key. Every block authenticates the header and the
// object's name, so a block cannot be moved, truncated away or reordered,
// and an object cannot be renamed, without the decryption failing. The key
// id (an HMAC of a constant under the master key) tells a wrong key from
// damaged data. Content addresses stay verifiable: packs are named by the
// hash of their plaintext, which is checked after decryption.
const (
	cryptMagic     = "CAIRNEC1"
	cryptHeaderLen = 8 + 8 + 32 + 8
	cryptBlock     = 64 << 10
	cryptTag       = 16
	// KeySize is the size of an encryption key: 256 bits.
	KeySize = 32
)

// ErrEncrypted: an object is encrypted and no key was given to read it.
var ErrEncrypted = errors.New("the destination is encrypted: give its key with --encryption-key-file")

// WrongKeyError: an object was encrypted with another key than the one
// given.
type WrongKeyError struct {
	Object    string
	Have, Got string // key ids: of the object, and of the key given
}

func (e *WrongKeyError) Error() string {
	return fmt.Sprintf("%s was encrypted with another key (key id %s; the key given has id %s)", e.Object, e.Have, e.Got)
}

// NotEncryptedError: a key was given but an object is not encrypted.
type NotEncryptedError struct{ Object string }

func (e *NotEncryptedError) Error() string {
	return fmt.Sprintf("%s is not encrypted, but an encryption key was given: an unencrypted destination cannot take encrypted objects; use a new destination", e.Object)
}

// IsEncrypted reports whether b, an object's content as read without a key,
// is (the start of) an encrypted object.
func IsEncrypted(b []byte) bool { return bytes.HasPrefix(b, []byte(cryptMagic)) }

// ReadKeyFile reads an encryption key from a file: 32 bytes, or 64 hex
// digits, or the base64 of 32 bytes (surrounding white space ignored).
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	if len(b) == KeySize {
		return b, nil
	}
	s := strings.TrimSpace(string(b))
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("encryption key %s: not a 256-bit key (give 32 bytes, 64 hex digits or the base64 of 32 bytes; `openssl rand -hex 32` makes one)", path)
}

// keyID returns the public id of a master key.
func keyID(key []byte) [8]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cairn destination key id v1"))
	var id [8]byte
	copy(id[:], m.Sum(nil))
	return id
}

// cryptDest encrypts the objects of the destination it wraps.
type cryptDest struct {
	Destination
	key []byte
	id  [8]byte

	mu      sync.Mutex
	headers map[string][]byte // headers of immutable objects read
}

// Encrypted returns d with client-side encryption under key (KeySize bytes):
// objects are encrypted before they leave and decrypted, and authenticated,
// when read.
func Encrypted(d Destination, key []byte) (Destination, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("an encryption key has %d bytes, not %d", KeySize, len(key))
	}
	return &cryptDest{Destination: d, key: append([]byte(nil), key...), id: keyID(key), headers: map[string][]byte{}}, nil
}

func cipherSize(plain int64) int64 {
	n := (plain + cryptBlock - 1) / cryptBlock
	if n == 0 {
		n = 1
	}
	return cryptHeaderLen + plain + n*cryptTag
}

func plainSize(ciphertext int64) int64 {
	body := ciphertext - cryptHeaderLen
	if body < cryptTag {
		return 0
	}
	n := (body + cryptBlock + cryptTag - 1) / (cryptBlock + cryptTag)
	return body - n*cryptTag
}

// objectCipher returns the AEAD of an object from its header.
func (d *cryptDest) objectCipher(header []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, d.key, header[16:48], "cairn destination object v1", 32)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

func nonce(i int64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint64(n[4:], uint64(i))
	return n
}

// aad is what every block of an object authenticates besides itself.
func aad(header []byte, name string) []byte {
	return append(append([]byte(nil), header...), name...)
}

// checkHeader checks an object's header and returns its plaintext size.
func (d *cryptDest) checkHeader(name string, h []byte) (int64, error) {
	if len(h) < cryptHeaderLen || !IsEncrypted(h) {
		if len(h) >= len(cryptMagic) || len(h) == 0 {
			return 0, &NotEncryptedError{Object: name}
		}
		return 0, corruptf(name, "too short for an encrypted object")
	}
	if !bytes.Equal(h[8:16], d.id[:]) {
		return 0, &WrongKeyError{Object: name, Have: hex.EncodeToString(h[8:16]), Got: hex.EncodeToString(d.id[:])}
	}
	size := int64(binary.BigEndian.Uint64(h[48:56]))
	if size < 0 || size > 1<<50 {
		return 0, corruptf(name, "bad encrypted size %d", size)
	}
	return size, nil
}

// seal encrypts a whole object.
func (d *cryptDest) seal(name string, plain []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := d.newSealer(name, bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		return nil, err
	}
	out.Grow(int(cipherSize(int64(len(plain)))))
	if _, err := io.Copy(&out, w); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// open decrypts a whole object.
func (d *cryptDest) open(name string, c []byte) ([]byte, error) {
	size, err := d.checkHeader(name, c)
	if err != nil {
		return nil, err
	}
	if int64(len(c)) != cipherSize(size) {
		return nil, corruptf(name, "encrypted object of %d bytes, want %d", len(c), cipherSize(size))
	}
	return d.openBlocks(name, c[:cryptHeaderLen], c[cryptHeaderLen:], 0, size)
}

// openBlocks decrypts consecutive blocks starting at block first; body
// holds them, sealed.
func (d *cryptDest) openBlocks(name string, header, body []byte, first, size int64) ([]byte, error) {
	a, err := d.objectCipher(header)
	if err != nil {
		return nil, err
	}
	ad := aad(header, name)
	out := make([]byte, 0, len(body))
	for i := first; len(body) > 0; i++ {
		n := min(int64(len(body)), cryptBlock+cryptTag)
		out, err = a.Open(out, nonce(i), body[:n], ad)
		if err != nil {
			return nil, corruptf(name, "block %d does not decrypt: the object is damaged or was altered", i)
		}
		body = body[n:]
	}
	return out, nil
}

// sealer is a reader of the encrypted form of a plaintext reader.
type sealer struct {
	src    io.Reader
	aead   cipher.AEAD
	ad     []byte
	left   int64 // plaintext still to read
	block  int64
	buf    []byte // sealed bytes not yet returned
	plain  []byte
	done   bool
	header []byte
}

func (d *cryptDest) newSealer(name string, r io.Reader, size int64) (*sealer, error) {
	h := make([]byte, cryptHeaderLen)
	copy(h, cryptMagic)
	copy(h[8:16], d.id[:])
	if _, err := rand.Read(h[16:48]); err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint64(h[48:], uint64(size))
	a, err := d.objectCipher(h)
	if err != nil {
		return nil, err
	}
	return &sealer{src: r, aead: a, ad: aad(h, name), left: size, buf: h, header: h, plain: make([]byte, cryptBlock)}, nil
}

func (s *sealer) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.done {
			return 0, io.EOF
		}
		n := min(s.left, cryptBlock)
		if _, err := io.ReadFull(s.src, s.plain[:n]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		s.left -= n
		s.buf = s.aead.Seal(s.buf[:0:0], nonce(s.block), s.plain[:n], s.ad)
		s.block++
		s.done = s.left == 0
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func (d *cryptDest) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	s, err := d.newSealer(name, r, size)
	if err != nil {
		return err
	}
	if err := d.Destination.Put(ctx, name, s, cipherSize(size)); err != nil {
		return err
	}
	d.mu.Lock()
	d.headers[name] = s.header
	d.mu.Unlock()
	return nil
}

// header returns the header of immutable object name, read once.
func (d *cryptDest) header(ctx context.Context, name string, fresh bool) ([]byte, error) {
	d.mu.Lock()
	h, ok := d.headers[name]
	d.mu.Unlock()
	if ok && !fresh {
		return h, nil
	}
	h, err := d.Destination.Get(ctx, name, 0, cryptHeaderLen)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return nil, err
		}
		// Too short to hold a header: look at what it is.
		all, err2 := d.Destination.Get(ctx, name, 0, -1)
		if err2 != nil {
			return nil, err
		}
		_, err = d.checkHeader(name, all)
		return nil, err
	}
	if _, err := d.checkHeader(name, h); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.headers[name] = h
	d.mu.Unlock()
	return h, nil
}

func (d *cryptDest) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	if off == 0 && n < 0 {
		c, err := d.Destination.Get(ctx, name, 0, -1)
		if err != nil {
			return nil, err
		}
		return d.open(name, c)
	}
	b, err := d.getRange(ctx, name, off, n, false)
	if err != nil && errors.Is(err, errStaleHeader) {
		// The object was replaced (pruned and written again) since its
		// header was read.
		b, err = d.getRange(ctx, name, off, n, true)
	}
	return b, err
}

var errStaleHeader = errors.New("stale header")

func (d *cryptDest) getRange(ctx context.Context, name string, off, n int64, fresh bool) ([]byte, error) {
	h, err := d.header(ctx, name, fresh)
	if err != nil {
		return nil, err
	}
	size, _ := d.checkHeader(name, h)
	if n < 0 {
		n = size - off
	}
	if off < 0 || n < 0 || off+n > size {
		return nil, fmt.Errorf("%s: range %d+%d past the end (%d bytes): %w", name, off, n, size, io.ErrUnexpectedEOF)
	}
	if n == 0 {
		return []byte{}, nil
	}
	first, last := off/cryptBlock, (off+n-1)/cryptBlock
	cstart := cryptHeaderLen + first*(cryptBlock+cryptTag)
	cend := min(cryptHeaderLen+(last+1)*(cryptBlock+cryptTag), cipherSize(size))
	body, err := d.Destination.Get(ctx, name, cstart, cend-cstart)
	if err != nil {
		if !fresh && !errors.Is(err, ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", errStaleHeader, err)
		}
		return nil, err
	}
	plain, err := d.openBlocks(name, h, body, first, size)
	if err != nil {
		if !fresh {
			return nil, fmt.Errorf("%w: %w", errStaleHeader, err)
		}
		return nil, err
	}
	skip := off - first*cryptBlock
	return plain[skip : skip+n], nil
}

func (d *cryptDest) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	info, err := d.Destination.Stat(ctx, name)
	info.Size = plainSize(info.Size)
	return info, err
}

func (d *cryptDest) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	objs, err := d.Destination.List(ctx, prefix)
	for i := range objs {
		objs[i].Size = plainSize(objs[i].Size)
	}
	return objs, err
}

func (d *cryptDest) Delete(ctx context.Context, name string) error {
	d.mu.Lock()
	delete(d.headers, name)
	d.mu.Unlock()
	return d.Destination.Delete(ctx, name)
}

func (d *cryptDest) Load(ctx context.Context, name string) ([]byte, string, error) {
	c, v, err := d.Destination.Load(ctx, name)
	if err != nil {
		return nil, "", err
	}
	b, err := d.open(name, c)
	return b, v, err // the version even on error: a lock may be taken over
}

func (d *cryptDest) Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error) {
	c, err := d.seal(name, data)
	if err != nil {
		return "", err
	}
	return d.Destination.Swap(ctx, name, c, ifVersion)
}

// AbsParams returns params with a relative encryption key file made
// absolute against base (the directory it was given in), so the path stays
// right wherever the params are used later.
func AbsParams(params map[string]string, base string) map[string]string {
	f := params[ParamEncryptionKeyFile]
	if f == "" || filepath.IsAbs(f) || base == "" {
		return params
	}
	out := make(map[string]string, len(params))
	for k, v := range params {
		out[k] = v
	}
	out[ParamEncryptionKeyFile] = filepath.Join(base, f)
	return out
}
