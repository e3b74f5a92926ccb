package repo

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

// RootValue methods return new values and leave the receiver as it was.
func TestRootValueImmutable(t *testing.T) {
	r0 := EmptyRoot()
	r1, err := r0.PutTable("b", fakeHash("b"))
	check(t, err)
	r2, err := r1.PutTable("a", fakeHash("a"))
	check(t, err)
	r3, err := r2.PutTable("b", fakeHash("b2"))
	check(t, err)
	r4, ok := r3.DeleteTable("a")
	if !ok {
		t.Fatal("DeleteTable(a) found nothing")
	}
	for _, tt := range []struct {
		name  string
		r     *RootValue
		names []string
		b     chunk.Hash
	}{
		{"empty", r0, []string{}, chunk.Hash{}},
		{"put b", r1, []string{"b"}, fakeHash("b")},
		{"put a", r2, []string{"a", "b"}, fakeHash("b")},
		{"replace b", r3, []string{"a", "b"}, fakeHash("b2")},
		{"delete a", r4, []string{"b"}, fakeHash("b2")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.TableNames(); !reflect.DeepEqual(got, tt.names) {
				t.Errorf("TableNames = %v, want %v", got, tt.names)
			}
			if h, ok := tt.r.GetTable("b"); h != tt.b || ok != !tt.b.IsZero() {
				t.Errorf("GetTable(b) = %s, %v; want %s", h, ok, tt.b)
			}
		})
	}
	if r, ok := r4.DeleteTable("nope"); ok || r != r4 {
		t.Errorf("DeleteTable of a missing table = %p, %v; want the root itself, false", r, ok)
	}
	if _, ok := r2.GetTable("B"); ok {
		t.Error("GetTable is case-sensitive")
	}
	tables := r2.Tables()
	tables[0].Name = "changed"
	if r2.TableNames()[0] != "a" {
		t.Error("Tables returned the root's own slice")
	}
	if _, err := r0.PutTable("", fakeHash("x")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("PutTable with an empty name: %v", err)
	}
	if _, err := r0.PutTable("x", chunk.Hash{}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("PutTable with a zero hash: %v", err)
	}
}

// The same content gives the same hash whatever order it was built in.
func TestRootValueCanonical(t *testing.T) {
	names := []string{"t3", "t1", "t2", "T", "a/b"}
	build := func(order []int) chunk.Hash {
		r := EmptyRoot()
		for _, i := range order {
			var err error
			r, err = r.PutTable(names[i], fakeHash(names[i]))
			check(t, err)
		}
		r, err := r.PutCollection(CollectionEvents, fakeHash("e"))
		check(t, err)
		return r.Encode().Hash
	}
	want := build([]int{0, 1, 2, 3, 4})
	for _, order := range [][]int{{4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		if got := build(order); got != want {
			t.Errorf("order %v gives %s, want %s", order, got, want)
		}
	}
	// Adding and removing a table leaves the empty root's hash.
	r, _ := EmptyRoot().PutTable("x", fakeHash("x"))
	r, _ = r.DeleteTable("x")
	if r.Encode().Hash != emptyRootHash {
		t.Error("an emptied root differs from the empty root")
	}
}

func TestRootValueCollectionsAndSettings(t *testing.T) {
	r, err := EmptyRoot().PutCollection(CollectionViews, fakeHash("v"))
	check(t, err)
	r, err = r.PutCollection(CollectionProcedures, fakeHash("p"))
	check(t, err)
	if h, ok := r.Collection(CollectionViews); !ok || h != fakeHash("v") {
		t.Errorf("Collection(views) = %s, %v", h, ok)
	}
	if _, ok := r.Collection(CollectionTriggers); ok {
		t.Error("Collection(triggers) found")
	}
	want := []NamedHash{{CollectionProcedures, fakeHash("p")}, {CollectionViews, fakeHash("v")}}
	if got := r.Collections(); !reflect.DeepEqual(got, want) {
		t.Errorf("Collections = %v, want %v", got, want)
	}
	r2, ok := r.DeleteCollection(CollectionViews)
	if _, still := r2.Collection(CollectionViews); !ok || still {
		t.Error("DeleteCollection did not delete")
	}
	if _, ok := r.Collection(CollectionViews); !ok {
		t.Error("DeleteCollection changed its receiver")
	}
	if len(r.TableNames()) != 0 {
		t.Error("collections are not tables")
	}
	if _, err := r.PutCollection("", fakeHash("x")); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("PutCollection with an empty name: %v", err)
	}

	b := []byte("abc")
	r3 := r.WithSettings(b)
	b[0] = 'x'
	if string(r3.Settings()) != "abc" || r.Settings() != nil {
		t.Errorf("settings %q, %q", r3.Settings(), r.Settings())
	}
	if r3.WithSettings(nil).Encode().Hash != r.Encode().Hash {
		t.Error("clearing settings does not restore the hash")
	}
}

func TestTableRecordIndexes(t *testing.T) {
	t0 := &TableRecord{Rows: fakeHash("rows")}
	t1, err := t0.WithIndex("by_b", fakeHash("b"))
	check(t, err)
	t2, err := t1.WithIndex("by_a", fakeHash("a"))
	check(t, err)
	t3, err := t2.WithIndex("by_b", fakeHash("b2"))
	check(t, err)
	want := []NamedHash{{"by_a", fakeHash("a")}, {"by_b", fakeHash("b2")}}
	if !reflect.DeepEqual(t3.Indexes, want) {
		t.Errorf("indexes %v, want %v", t3.Indexes, want)
	}
	if h, ok := t2.Index("by_b"); !ok || h != fakeHash("b") {
		t.Errorf("WithIndex changed its receiver: %s", h)
	}
	t4, ok := t3.WithoutIndex("by_a")
	if !ok || len(t4.Indexes) != 1 || len(t3.Indexes) != 2 {
		t.Errorf("WithoutIndex: %v %v, receiver %v", t4.Indexes, ok, t3.Indexes)
	}
	if _, ok := t4.WithoutIndex("nope"); ok {
		t.Error("WithoutIndex of a missing index reported it")
	}
	if _, ok := t0.Index("by_a"); ok {
		t.Error("Index found on a table without indexes")
	}
	if _, err := t0.WithIndex("i", chunk.Hash{}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("WithIndex with a zero hash: %v", err)
	}
	if _, err := t3.Encode(); err != nil {
		t.Errorf("a table built with WithIndex does not encode: %v", err)
	}
}
