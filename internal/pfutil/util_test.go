package pfutil

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrintable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		utf  bool
		want string
	}{
		{"printable: plain ASCII unchanged", "a b~", false, "a b~"},
		{"printable: control characters and DEL become ?", "a\tb\x00c\x7f", true, "a?b?c?"},
		{"printable: valid UTF-8 kept with util_utf8_enable", "caf\xc3\xa9", true, "caf\xc3\xa9"},
		{"printable: non-ASCII becomes ? without UTF-8 support", "caf\xc3\xa9", false, "caf??"},
		{"printable: malformed UTF-8 becomes ?", "a\xc3b\xff", true, "a?b?"},
		{"printable: U+FFFD written out is valid UTF-8", "\xef\xbf\xbd", true, "\xef\xbf\xbd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Printable(tc.in, tc.utf), "Printable(%q, %v)", tc.in, tc.utf)
		})
	}
}

func TestBalpar(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"balpar: simple group", "{a b}", 5},
		{"balpar: nested group, text after it", "{a{b}c}d", 7},
		{"balpar: unclosed group", "{a{b}", 0},
		{"balpar: no '{' at start", "a{b}", 0},
		{"balpar: empty string", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Balpar(tc.in), "Balpar(%q)", tc.in)
		})
	}
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"abc", "a\x00b", "caf\xc3\xa9", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, utf := range []bool{false, true} {
			out := Printable(s, utf)
			require.Equal(t, out, Printable(out, utf), "Printable not idempotent on %q", s)
			for i := 0; i < len(out); i++ {
				c := out[i]
				require.False(t, c < 0x20 || c == 0x7f || (!utf && c >= 0x80), "Printable(%q, %v) = %q keeps byte %#x", s, utf, out, c)
			}
		}
	})
}

func ExampleBalpar() {
	s := "{ name = value } rest"
	n := Balpar(s)
	fmt.Printf("%q %q\n", s[:n], s[n:])
	// Output: "{ name = value }" " rest"
}
