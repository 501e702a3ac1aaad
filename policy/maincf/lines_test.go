package maincf

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadllines ports the test vectors of Postfix's util/readlline.c.
func TestReadllines(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		want        []string
		first, last int // of the first logical line
		diags       []string
	}{
		{"readllines: leading space before non-comment", " abcde\nfghij\n", []string{"fghij"}, 2, 2,
			[]string{`f: logical line must not start with whitespace: " abcde"`}},
		{"readllines: leading space before leading comment", " #abcde\nfghij\n", []string{"fghij"}, 2, 2, nil},
		{"readllines: leading #comment at beginning of line", "#abc\ndef", []string{"def"}, 2, 2, nil},
		{"readllines: empty line before non-comment", "\nabc\n", []string{"abc"}, 2, 2, nil},
		{"readllines: whitespace line before non-comment", " \nabc\n", []string{"abc"}, 2, 2, nil},
		{"readllines: missing newline at end of non-comment", "abc def", []string{"abc def"}, 1, 1, nil},
		{"readllines: missing newline at end of comment", "#abc def", nil, 0, 0, nil},
		{"readllines: embedded null, single-line", "abc\x00def", []string{"abc\x00def"}, 1, 1,
			[]string{"f, line 1: text after null byte may be ignored"}},
		{"readllines: embedded null, multiline", "abc\x00\n def", []string{"abc\x00 def"}, 1, 2,
			[]string{"f, line 1-2: text after null byte may be ignored"}},
		{"readllines: embedded null in comment", "#abc\x00\ndef", []string{"def"}, 2, 2,
			[]string{"f, line 2: text after null byte may be ignored"}},
		{"readllines: multiline input", "abc\n def\n", []string{"abc def"}, 1, 2, nil},
		{"readllines: multiline input with embedded #comment after space", "abc\n #def\n ghi", []string{"abc ghi"}, 1, 3, nil},
		{"readllines: multiline input with embedded #comment flush left", "abc\n#def\n ghi", []string{"abc ghi"}, 1, 3, nil},
		{"readllines: multiline input with embedded whitespace line", "abc\n \n ghi", []string{"abc ghi"}, 1, 3, nil},
		{"readllines: multiline input with embedded empty line", "abc\n\n ghi", []string{"abc ghi"}, 1, 3, nil},
		{"readllines: multiline input ending in #comment after space", "abc\n #def\n", []string{"abc"}, 1, 2, nil},
		{"readllines: multiline input ending in #comment flush left", "abc\n#def\n", []string{"abc"}, 1, 2, nil},
		{"readllines: empty line at end of file", "\n", nil, 0, 0, nil},
		{"readllines: whitespace at end of file", "abc\n ", []string{"abc"}, 1, 2, nil},
		{"readllines: two entries", "a\nb\n", []string{"a", "b"}, 1, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr := &lineReader{data: []byte(tc.in), file: "f"}
			var got []string
			var first, last int
			for {
				ll, ok := lr.next()
				if !ok {
					break
				}
				if got == nil {
					first, last = ll.first, ll.last
				}
				got = append(got, ll.text)
			}
			require.Equal(t, tc.want, got)
			require.Equal(t, [2]int{tc.first, tc.last}, [2]int{first, last}, "first and last line")
			var diags []string
			for _, d := range lr.diags {
				diags = append(diags, d.Message)
			}
			require.Equal(t, tc.diags, diags, "diagnostics")
		})
	}
}
