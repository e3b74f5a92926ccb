package codec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// maxGeometryDepth bounds the nesting of geometry collections.
const maxGeometryDepth = 1000

// appendGeometry appends the encoding of g: uvarint SRID, then the geometry
// (see doc.go). Parts of g take g's SRID, as in MySQL's own format.
func appendGeometry(dst []byte, g types.GeometryValue) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(g.GetSRID()))
	return appendGeom(dst, g, 0)
}

func appendPoints(dst []byte, ps []types.Point) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ps)))
	for _, p := range ps {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.X))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p.Y))
	}
	return dst
}

func appendLines(dst []byte, ls []types.LineString) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = appendPoints(dst, l.Points)
	}
	return dst
}

func appendGeom(dst []byte, g types.GeometryValue, depth int) ([]byte, error) {
	switch g := g.(type) {
	case types.Point:
		dst = append(dst, types.WKBPointID)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(g.X))
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(g.Y)), nil
	case types.LineString:
		return appendPoints(append(dst, types.WKBLineID), g.Points), nil
	case types.Polygon:
		return appendLines(append(dst, types.WKBPolyID), g.Lines), nil
	case types.MultiPoint:
		return appendPoints(append(dst, types.WKBMultiPointID), g.Points), nil
	case types.MultiLineString:
		return appendLines(append(dst, types.WKBMultiLineID), g.Lines), nil
	case types.MultiPolygon:
		dst = binary.AppendUvarint(append(dst, types.WKBMultiPolyID), uint64(len(g.Polygons)))
		for _, p := range g.Polygons {
			dst = appendLines(dst, p.Lines)
		}
		return dst, nil
	case types.GeomColl:
		if depth >= maxGeometryDepth {
			return nil, fmt.Errorf("%w: geometry collections nested deeper than %d", ErrBadValue, maxGeometryDepth)
		}
		dst = binary.AppendUvarint(append(dst, types.WKBGeomCollID), uint64(len(g.Geoms)))
		for _, e := range g.Geoms {
			var err error
			if dst, err = appendGeom(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: geometry %T", ErrBadValue, g)
}

// geomReader decodes geometries, checking every count against the bytes
// left so that malformed input cannot ask for large allocations.
type geomReader struct {
	b    []byte
	srid uint32
}

func corruptGeometry(what string) error {
	return fmt.Errorf("%w: bad geometry %s", chunk.ErrCorruption, what)
}

// count reads a uvarint count of items taking at least min bytes each.
func (r *geomReader) count(min int) (int, error) {
	n, l := uvarint(r.b)
	if l <= 0 || n > uint64(len(r.b)-l)/uint64(min) {
		return 0, corruptGeometry("count")
	}
	r.b = r.b[l:]
	return int(n), nil
}

func (r *geomReader) point() (types.Point, error) {
	if len(r.b) < 16 {
		return types.Point{}, corruptGeometry("point")
	}
	p := types.Point{
		SRID: r.srid,
		X:    math.Float64frombits(binary.LittleEndian.Uint64(r.b)),
		Y:    math.Float64frombits(binary.LittleEndian.Uint64(r.b[8:])),
	}
	r.b = r.b[16:]
	return p, nil
}

func (r *geomReader) points() ([]types.Point, error) {
	n, err := r.count(16)
	if err != nil {
		return nil, err
	}
	ps := make([]types.Point, n)
	for i := range ps {
		if ps[i], err = r.point(); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

func (r *geomReader) lines() ([]types.LineString, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	ls := make([]types.LineString, n)
	for i := range ls {
		ps, err := r.points()
		if err != nil {
			return nil, err
		}
		ls[i] = types.LineString{SRID: r.srid, Points: ps}
	}
	return ls, nil
}

func (r *geomReader) geom(depth int) (types.GeometryValue, error) {
	if len(r.b) == 0 {
		return nil, corruptGeometry("type")
	}
	typ := r.b[0]
	r.b = r.b[1:]
	switch typ {
	case types.WKBPointID:
		return r.point()
	case types.WKBLineID:
		ps, err := r.points()
		return types.LineString{SRID: r.srid, Points: ps}, err
	case types.WKBPolyID:
		ls, err := r.lines()
		return types.Polygon{SRID: r.srid, Lines: ls}, err
	case types.WKBMultiPointID:
		ps, err := r.points()
		return types.MultiPoint{SRID: r.srid, Points: ps}, err
	case types.WKBMultiLineID:
		ls, err := r.lines()
		return types.MultiLineString{SRID: r.srid, Lines: ls}, err
	case types.WKBMultiPolyID:
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		polys := make([]types.Polygon, n)
		for i := range polys {
			ls, err := r.lines()
			if err != nil {
				return nil, err
			}
			polys[i] = types.Polygon{SRID: r.srid, Lines: ls}
		}
		return types.MultiPolygon{SRID: r.srid, Polygons: polys}, nil
	case types.WKBGeomCollID:
		if depth >= maxGeometryDepth {
			return nil, corruptGeometry("nesting")
		}
		n, err := r.count(1)
		if err != nil {
			return nil, err
		}
		geoms := make([]types.GeometryValue, n)
		for i := range geoms {
			if geoms[i], err = r.geom(depth + 1); err != nil {
				return nil, err
			}
		}
		return types.GeomColl{SRID: r.srid, Geoms: geoms}, nil
	}
	return nil, fmt.Errorf("%w: bad geometry type %d", chunk.ErrCorruption, typ)
}

// readGeometry decodes a geometry, which must fill b.
func readGeometry(b []byte) (types.GeometryValue, error) {
	srid, n := uvarint(b)
	if n <= 0 || srid > math.MaxUint32 {
		return nil, corruptGeometry("SRID")
	}
	r := geomReader{b: b[n:], srid: uint32(srid)}
	g, err := r.geom(0)
	if err != nil {
		return nil, err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after a geometry", chunk.ErrCorruption, len(r.b))
	}
	return g, nil
}
