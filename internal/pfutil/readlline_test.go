package pfutil

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func collect(data string, opt Options) (lines []Line, warns []Warning) {
	r := NewReader(data, opt)
	for {
		l, ok := r.Next(func(w Warning) { warns = append(warns, w) })
		if !ok {
			return lines, warns
		}
		lines = append(lines, l)
	}
}

// TestNext checks the readllines() rules (util/readlline.c test vectors and the
// warnings' wording).
func TestNext(t *testing.T) {
	long := " " + strings.Repeat("x", 40)
	tests := []struct {
		name  string
		in    string
		opt   Options
		want  []Line
		warns []Warning
	}{
		{"readllines: continuation joined, newline dropped, whitespace kept", "abc\n def\n", Options{File: "f"},
			[]Line{{Text: "abc def", First: 1, Last: 2}}, nil},
		{"readllines: #comment flush left inside a logical line", "abc\n#def\n ghi", Options{File: "f"},
			[]Line{{Text: "abc ghi", First: 1, Last: 3}}, nil},
		{"readllines: empty and whitespace lines are skipped", "\n \nabc", Options{File: "f"},
			[]Line{{Text: "abc", First: 3, Last: 3}}, nil},
		{"readllines: logical line must not start with whitespace", " abcde\nfghij\n", Options{File: "f"},
			[]Line{{Text: "fghij", First: 2, Last: 2}},
			[]Warning{{LeadingWhitespace, 1, `f: logical line must not start with whitespace: " abcde"`}}},
		{"readllines: quoted text cut to 30 bytes with ...", long + "\n", Options{File: "f"}, nil,
			[]Warning{{LeadingWhitespace, 1, `f: logical line must not start with whitespace: "` + long[:30] + `..."`}}},
		{"readllines: %.30s stops at a NUL byte when asked", " ab\x00cd\n", Options{File: "f", CutQuoteAtNull: true}, nil,
			[]Warning{{NullByte, 1, "f, line 1: text after null byte may be ignored"},
				{LeadingWhitespace, 1, `f: logical line must not start with whitespace: " ab"`}}},
		{"readllines: text after null byte, multiline", "abc\x00\n def", Options{File: "f"},
			[]Line{{Text: "abc\x00 def", First: 1, Last: 2}},
			[]Warning{{NullByte, 1, "f, line 1-2: text after null byte may be ignored"}}},
		{"readllines: null byte in a trailing comment line still warns", "a\n#\x00", Options{File: "f"},
			[]Line{{Text: "a", First: 1, Last: 2}},
			[]Warning{{NullByte, 1, "f, line 1-2: text after null byte may be ignored"}}},
		{"segments map offsets to physical lines", "a\n#c\n b\n", Options{File: "f", Segments: true},
			[]Line{{Text: "a b", First: 1, Last: 3, Segs: []Segment{{0, 1}, {1, 3}}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warns := collect(tc.in, tc.opt)
			assert.Equal(t, tc.want, got, "lines")
			assert.Equal(t, tc.warns, warns, "warnings")
		})
	}
}

func TestCStrIsSpace(t *testing.T) {
	assert.Equal(t, "ab", CStr("ab\x00cd"))
	for _, c := range []byte(" \t\n\v\f\r") {
		assert.True(t, IsSpace(c), "IsSpace(%q)", c)
	}
	assert.False(t, IsSpace(0xa0), "IsSpace outside the C-locale set")
	assert.False(t, IsSpace('x'), "IsSpace outside the C-locale set")
}

func FuzzNext(f *testing.F) {
	for _, s := range []string{"abc\n def\n", " abc\nd", "a\x00\n b", "#x\n\n \ny", "a\n#c\n b\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		lines, _ := collect(data, Options{File: "f", Segments: true})
		prev := 0
		for _, l := range lines {
			require.False(t, l.Text == "" || IsSpace(l.Text[0]) || strings.ContainsRune(l.Text, '\n'), "bad logical line %q", l.Text)
			require.False(t, l.First <= prev || l.Last < l.First || len(l.Segs) == 0 || l.Segs[0].Off != 0, "bad line numbers %+v after %d", l, prev)
			prev = l.Last
		}
	})
}

func ExampleReader_Next() {
	r := NewReader(" stray\n# comment\nkey value\n  continued\n", Options{File: "main.cf"})
	for {
		l, ok := r.Next(func(w Warning) { fmt.Println("warning:", w.Message) })
		if !ok {
			break
		}
		fmt.Printf("lines %d-%d: %q\n", l.First, l.Last, l.Text)
	}
	// Output:
	// warning: main.cf: logical line must not start with whitespace: " stray"
	// lines 3-4: "key value  continued"
}
