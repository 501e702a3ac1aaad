package maincf

import (
	"fmt"
	"strings"
	"testing"
)

// bigMainCF returns a main.cf of about n lines with references, conditionals,
// relational expressions, comments and continuation lines.
func bigMainCF(n int) string {
	var b strings.Builder
	b.WriteString("compatibility_level = 3.6\nmydomain = example.org\n")
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "# parameter group %d\np%d = value-%d.$mydomain\n", i, i, i)
		case 1:
			fmt.Fprintf(&b, "p%d = ${p%d?{$p%d}:{none}} $$literal\n", i, i-1, i-1)
		case 2:
			fmt.Fprintf(&b, "p%d = ${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}\n", i)
		case 3:
			fmt.Fprintf(&b, "p%d = texthash:/etc/postfix/a_%d,\n    texthash:/etc/postfix/b_$p%d\n", i, i, i-2)
		case 4:
			fmt.Fprintf(&b, "p%d = ${{$p%d} == {sha256} ? {$p%d} : {x}}\n", i, i-2, i-3)
		}
	}
	return b.String()
}

func BenchmarkParseAndExpand5000(b *testing.B) {
	text := bigMainCF(5000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Parse(strings.NewReader(text), "main.cf")
		if err != nil {
			b.Fatal(err)
		}
		c := NewConfig(DefaultsMap{"compatibility_level": "0"}, MainLayer(f))
		for _, n := range c.Names() {
			if _, err := c.Expand(n); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParse5000(b *testing.B) {
	text := bigMainCF(5000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(strings.NewReader(text), "main.cf"); err != nil {
			b.Fatal(err)
		}
	}
}
