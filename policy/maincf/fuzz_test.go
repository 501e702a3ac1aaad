package maincf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("a = b\x00c\n d\n#x\n\te\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(bytes.NewReader(data), "main.cf")
		if err != nil {
			return
		}
		for _, p := range file.Params() {
			require.NotEmpty(t, p.Name)
			require.False(t, strings.ContainsAny(p.Name, " \t\r\n\v\f=\x00"), "bad name %q", p.Name)
			q, ok := file.Lookup(p.Name)
			require.True(t, ok, "Lookup(%q)", p.Name)
			require.Equal(t, p, q, "Lookup(%q)", p.Name)
			require.True(t, p.Line >= 1 && p.LastLine >= p.Line, "bad lines %d-%d", p.Line, p.LastLine)
		}
	})
}

func FuzzParseMaster(f *testing.F) {
	for _, tc := range masterCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMaster(bytes.NewReader(data), "master.cf")
		if err != nil {
			return
		}
		for _, s := range m.Services() {
			got, ok := m.Service(s.Name, s.Type)
			require.True(t, ok && got != nil, "Service(%q, %q) not found", s.Name, s.Type)
			for _, o := range s.Overrides {
				require.True(t, o.Line >= s.Line && o.Line <= s.LastLine, "override line %d outside entry %d-%d", o.Line, s.Line, s.LastLine)
			}
			_ = NewConfig(nil, ServiceLayer(s))
		}
	})
}

func FuzzExpand(f *testing.F) {
	for _, tc := range expandCases {
		f.Add(tc.main, tc.expr)
	}
	f.Fuzz(func(t *testing.T, mainCF, expr string) {
		file, err := Parse(strings.NewReader(mainCF), "main.cf")
		if err != nil {
			return
		}
		lim := Limits{MaxOutput: 1 << 16, MaxSteps: 1 << 20, MaxDepth: 200}
		for _, feat := range []Features{LatestFeatures(), FeaturesOf(3, 7), FeaturesOf(2, 11)} {
			c := NewConfigWithOptions(Options{Features: &feat, Limits: lim}, DefaultsMap{"compatibility_level": "3.6"}, MainLayer(file))
			out, err := c.ExpandString(expr)
			if err == nil {
				require.LessOrEqual(t, len(out), lim.MaxOutput, "output exceeds the limit")
			}
			for _, n := range c.Names() {
				if out, err := c.Expand(n); err == nil {
					require.LessOrEqual(t, len(out), lim.MaxOutput, "output of %s exceeds the limit", n)
				}
			}
			_, _ = References(expr, feat)
			_ = c.Check("/etc/postfix")
		}
	})
}
