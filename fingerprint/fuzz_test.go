package fingerprint

import (
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/postfixtls/postfixtls/internal/testkit/pki"
)

var reHexColons = regexp.MustCompile(`^(?:[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2})*)?$`)

// FuzzDecodeHex compares DecodeHex with the grammar of §5.2.
func FuzzDecodeHex(f *testing.F) {
	for _, s := range []string{"AB:CD:EF", "abcdef", "AB:CDEF", ":AB", "AB:", "AB::CD", "ABC", "zz:11", "", "A:BC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, ok := DecodeHex(s)
		require.Equal(t, reHexColons.MatchString(s), ok, "DecodeHex(%q) against the grammar", s)
		if ok {
			require.True(t, strings.EqualFold(hex.EncodeToString(b), strings.ReplaceAll(s, ":", "")), "DecodeHex(%q) = %x", s, b)
		}
	})
}

// FuzzParseList checks ParseList's invariants for both sources and both Postfix eras,
// and that Check never fails on what it returns.
func FuzzParseList(f *testing.F) {
	for _, s := range []string{"AB:CD|ef01", "zz:11", "AB|CD", "AB, CD\tEF", "||", strings.Repeat("AB", 97), "001122|" + strings.Repeat("ab", 32)} {
		f.Add(s, true)
		f.Add(s, false)
	}
	leaf, err := pki.New(pki.Spec{CN: []string{"fuzz"}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string, colons bool) {
		for _, src := range []Source{Table, MainCF} {
			l, warns, err := ParseList([]string{raw}, src, Options{ColonsOptional: colons})
			bad := 0
			for _, v := range l.Values {
				require.NotEmpty(t, v.Text, "empty value kept")
				if v.Malformed {
					bad++
				}
			}
			require.Len(t, warns, bad, "one warning per malformed value")
			require.Equal(t, bad == len(l.Values), err != nil, "err=%v with %d/%d malformed", err, bad, len(l.Values))
			r := Check(leaf.Cert, l)
			if !r.Matched {
				require.NotEmpty(t, r.Summary(), "empty summary")
			}
		}
	})
}
