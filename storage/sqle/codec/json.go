package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"
)

// JSON value tags (see doc.go).
const (
	jsonNull    = 0x00
	jsonFalse   = 0x01
	jsonTrue    = 0x02
	jsonInt     = 0x03 // varint: int64
	jsonUint    = 0x04 // uvarint: uint64
	jsonFloat   = 0x05 // 8 bytes little-endian: float64
	jsonString  = 0x06 // uvarint length, bytes
	jsonArray   = 0x07 // uvarint count, values
	jsonObject  = 0x08 // uvarint count, (uvarint length, key bytes, value)... keys in MySQL order
	jsonDecimal = 0x09 // as a DECIMAL column
)

// maxJSONDepth bounds the nesting of JSON values, as encoding/json does.
const maxJSONDepth = 10000

// appendJSONDoc appends the encoding of a JSON document. Documents that are
// JSON text (types.LazyJSONDocument) are parsed keeping integers exact,
// which LazyJSONDocument's own parse (to float64) does not.
func appendJSONDoc(dst []byte, j sql.JSONWrapper) ([]byte, error) {
	return appendJSONWrapper(dst, j, 0)
}

func appendJSONWrapper(dst []byte, j sql.JSONWrapper, depth int) ([]byte, error) {
	if jb, ok := j.(types.JSONBytes); ok {
		text, err := jb.GetBytes()
		if err != nil {
			return nil, fmt.Errorf("%w: JSON text: %v", ErrBadValue, err)
		}
		v, err := parseJSON(text)
		if err != nil {
			return nil, err
		}
		return appendJSON(dst, v, depth)
	}
	v, err := j.ToInterface()
	if err != nil {
		return nil, fmt.Errorf("%w: JSON value: %v", ErrBadValue, err)
	}
	return appendJSON(dst, v, depth)
}

// parseJSON parses JSON text with numbers as json.Number.
func parseJSON(text []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: JSON text: %v", ErrBadValue, err)
	}
	if len(bytes.TrimSpace(text[d.InputOffset():])) != 0 {
		return nil, fmt.Errorf("%w: JSON text has data after its value", ErrBadValue)
	}
	return v, nil
}

// mysqlKeyCmp orders JSON object keys as MySQL stores them: shorter first,
// then bytewise.
func mysqlKeyCmp(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func appendJSON(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: JSON nested deeper than %d", ErrBadValue, maxJSONDepth)
	}
	switch v := v.(type) {
	case nil:
		return append(dst, jsonNull), nil
	case bool:
		if v {
			return append(dst, jsonTrue), nil
		}
		return append(dst, jsonFalse), nil
	case string:
		return append(binary.AppendUvarint(append(dst, jsonString), uint64(len(v))), v...), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(dst, jsonFloat), math.Float64bits(v)), nil
	case float32:
		return binary.LittleEndian.AppendUint64(append(dst, jsonFloat), math.Float64bits(float64(v))), nil
	case int64:
		return binary.AppendVarint(append(dst, jsonInt), v), nil
	case int:
		return binary.AppendVarint(append(dst, jsonInt), int64(v)), nil
	case int32:
		return binary.AppendVarint(append(dst, jsonInt), int64(v)), nil
	case int16:
		return binary.AppendVarint(append(dst, jsonInt), int64(v)), nil
	case int8:
		return binary.AppendVarint(append(dst, jsonInt), int64(v)), nil
	case uint64:
		return binary.AppendUvarint(append(dst, jsonUint), v), nil
	case uint:
		return binary.AppendUvarint(append(dst, jsonUint), uint64(v)), nil
	case uint32:
		return binary.AppendUvarint(append(dst, jsonUint), uint64(v)), nil
	case uint16:
		return binary.AppendUvarint(append(dst, jsonUint), uint64(v)), nil
	case uint8:
		return binary.AppendUvarint(append(dst, jsonUint), uint64(v)), nil
	case decimal.Decimal:
		return appendDecimal(append(dst, jsonDecimal), v), nil
	case json.Number:
		return appendJSONNumber(dst, string(v))
	case []any:
		dst = binary.AppendUvarint(append(dst, jsonArray), uint64(len(v)))
		for _, e := range v {
			var err error
			if dst, err = appendJSON(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, mysqlKeyCmp)
		dst = binary.AppendUvarint(append(dst, jsonObject), uint64(len(v)))
		for _, k := range keys {
			dst = append(binary.AppendUvarint(dst, uint64(len(k))), k...)
			var err error
			if dst, err = appendJSON(dst, v[k], depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case sql.JSONWrapper:
		return appendJSONWrapper(dst, v, depth+1)
	}
	// Anything else (map[string]string, time.Time, ...) is stored as what
	// encoding/json makes of it.
	text, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T in JSON: %v", ErrBadValue, v, err)
	}
	parsed, err := parseJSON(text)
	if err != nil {
		return nil, err
	}
	return appendJSON(dst, parsed, depth+1)
}

// appendJSONNumber stores a number from JSON text as an int64 if it is an
// integer that fits, else a uint64 if it fits, else a float64.
func appendJSONNumber(dst []byte, s string) ([]byte, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return appendJSON(dst, i, 0)
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return appendJSON(dst, u, 0)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: JSON number %s: %v", ErrBadValue, s, err)
	}
	return appendJSON(dst, f, 0)
}

// readJSONDoc decodes a JSON document, which must fill b.
func readJSONDoc(b []byte) (types.JSONDocument, error) {
	v, n, err := readJSON(b, 0)
	if err != nil {
		return types.JSONDocument{}, err
	}
	if n != len(b) {
		return types.JSONDocument{}, fmt.Errorf("%w: %d bytes after a JSON value", chunk.ErrCorruption, len(b)-n)
	}
	return types.JSONDocument{Val: v}, nil
}

func corruptJSON(what string) error {
	return fmt.Errorf("%w: bad JSON %s", chunk.ErrCorruption, what)
}

// readJSON decodes one JSON value at the start of b and returns it and its
// length.
func readJSON(b []byte, depth int) (any, int, error) {
	if depth > maxJSONDepth {
		return nil, 0, corruptJSON("nesting")
	}
	if len(b) == 0 {
		return nil, 0, corruptJSON("value")
	}
	switch b[0] {
	case jsonNull:
		return nil, 1, nil
	case jsonFalse:
		return false, 1, nil
	case jsonTrue:
		return true, 1, nil
	case jsonInt:
		v, n := varint(b[1:])
		if n <= 0 {
			return nil, 0, corruptJSON("integer")
		}
		return v, 1 + n, nil
	case jsonUint:
		v, n := uvarint(b[1:])
		if n <= 0 {
			return nil, 0, corruptJSON("integer")
		}
		return v, 1 + n, nil
	case jsonFloat:
		if len(b) < 9 {
			return nil, 0, corruptJSON("number")
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b[1:])), 9, nil
	case jsonString:
		s, e, err := readLength(b[1:], kindJSON)
		if err != nil {
			return nil, 0, corruptJSON("string")
		}
		return string(b[1+s : 1+e]), 1 + e, nil
	case jsonDecimal:
		d, n, err := readDecimal(b[1:])
		if err != nil {
			return nil, 0, err
		}
		return d, 1 + n, nil
	case jsonArray:
		count, n := uvarint(b[1:])
		pos := 1 + n
		// Every value takes at least one byte.
		if n <= 0 || count > uint64(len(b)-pos) {
			return nil, 0, corruptJSON("array")
		}
		arr := make([]any, count)
		for i := range arr {
			v, m, err := readJSON(b[pos:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			arr[i] = v
			pos += m
		}
		return arr, pos, nil
	case jsonObject:
		count, n := uvarint(b[1:])
		pos := 1 + n
		// Every member takes at least two bytes.
		if n <= 0 || count > uint64(len(b)-pos)/2 {
			return nil, 0, corruptJSON("object")
		}
		obj := make(map[string]any, count)
		var prev string
		for i := uint64(0); i < count; i++ {
			s, e, err := readLength(b[pos:], kindJSON)
			if err != nil {
				return nil, 0, corruptJSON("object key")
			}
			key := string(b[pos+s : pos+e])
			if i > 0 && mysqlKeyCmp(prev, key) >= 0 {
				return nil, 0, corruptJSON("object key order")
			}
			prev = key
			pos += e
			v, m, err := readJSON(b[pos:], depth+1)
			if err != nil {
				return nil, 0, err
			}
			obj[key] = v
			pos += m
		}
		return obj, pos, nil
	}
	return nil, 0, fmt.Errorf("%w: bad JSON tag 0x%02x", chunk.ErrCorruption, b[0])
}
