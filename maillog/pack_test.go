package maillog

import (
	"math/rand"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fillAll sets every field of v, recursively, to a value that is not its zero value
// (times in UTC, which unpack returns as they were; see TestPackZones for the others).
func fillAll(t *testing.T, v reflect.Value, rnd *rand.Rand) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(rnd.Intn(1e6)) + "\u00e9\x00")
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(rnd.Intn(1e6)) - 5e5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1+rnd.Intn(3), 3)
		for i := 0; i < s.Len(); i++ {
			fillAll(t, s.Index(i), rnd)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillAll(t, p.Elem(), rnd)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(rnd.Int63n(4e9), rnd.Int63n(1e9)).In(time.UTC)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Fatalf("%s.%s: pack knows only exported fields", v.Type(), f.Name)
			}
			fillAll(t, v.Field(i), rnd)
		}
	default:
		t.Fatalf("%s: a kind pack does not know (%s)", v.Type(), v.Kind())
	}
}

// TestPackRoundTrip: a Delivery with every field set (by reflection, so that a field
// added to Delivery, Attempt or what they hold fails here until pack writes it) comes
// back from pack and unpack equal, and so does the zero Delivery.
func TestPackRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	var scratch []byte
	for range 50 {
		var d Delivery
		fillAll(t, reflect.ValueOf(&d).Elem(), rnd)
		var p packed
		p, scratch = pack(scratch, &d)
		require.Equal(t, d, p.unpack())
	}
	p, _ := pack(nil, &Delivery{})
	require.Equal(t, Delivery{}, p.unpack())
	require.Equal(t, Delivery{}, packed(nil).unpack())
}

// TestPackZones: times keep their instant, zone name and offset.
func TestPackZones(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 22, 3, 0, 0, 123456000, time.FixedZone("", 3600)),
		time.Date(2026, 11, 22, 3, 0, 0, 0, time.FixedZone("CET", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2026, 2, 2, 12, 15, 21, 0, time.Local),
	} {
		d := Delivery{Time: tm, Attempts: []Attempt{{Time: tm}}}
		p, _ := pack(nil, &d)
		got := p.unpack()
		for _, g := range []time.Time{got.Time, got.Attempts[0].Time} {
			require.True(t, g.Equal(tm), "%v: %v", tm, g)
			n1, o1 := tm.Zone()
			n2, o2 := g.Zone()
			require.Equal(t, [2]any{n1, o1}, [2]any{n2, o2}, "%v", tm)
		}
	}
}
