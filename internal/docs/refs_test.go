package docs

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spec is what a Markdown document offers to be referred to.
type spec struct {
	// sections holds the heading numbers: "6", "6.4".
	sections map[string]bool
	// items holds, per section, the numbers of its numbered list items ("1. ...").
	items map[string]map[int]bool
	// codes holds the catalogue entries ("B-1").
	codes map[string]bool
}

var (
	headingRE = regexp.MustCompile(`^#{2,3} (?:Part )?(\d+)(?:\.(\d+))?[. ]`)
	itemRE    = regexp.MustCompile(`^(\d+)\. `)
	codeRE    = regexp.MustCompile(`^#### ([A-Z]-\d+)\.`)
)

// readSpec parses the headings, numbered items and catalogue codes of a Markdown file. A
// numbered item belongs to the innermost section above it; items of "## 9." (the test
// vectors) belong to section "9".
func readSpec(t *testing.T, path string) spec {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s := spec{sections: map[string]bool{}, items: map[string]map[int]bool{}, codes: map[string]bool{}}
	cur := ""
	fence := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		if m := codeRE.FindStringSubmatch(line); m != nil {
			s.codes[m[1]] = true
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			if m[2] != "" {
				cur += "." + m[2]
			}
			s.sections[cur] = true
			continue
		}
		if m := itemRE.FindStringSubmatch(line); m != nil && cur != "" {
			n, _ := strconv.Atoi(m[1])
			if s.items[cur] == nil {
				s.items[cur] = map[int]bool{}
			}
			s.items[cur][n] = true
		}
	}
	require.NoError(t, sc.Err())
	return s
}

// A reference: "§6.4", "§6.1 item 3", "§6.1 items 6-11", "§9.41", "§9 vector 16",
// "§9 vectors 1-18". RFC section numbers ("RFC 6840 §5.8") are not ours.
var (
	refRE      = regexp.MustCompile(`§(\d+(?:\.\d+)*)?`)
	itemRefRE  = regexp.MustCompile(`^ (item|vector)s? (\d+)(?:-(\d+))?`)
	rfcRE      = regexp.MustCompile(`RFC ?\d+ $`)
	catCodeRE  = regexp.MustCompile(`\b([A-JR]-\d{1,2})\b`)
	catalogued = "catalogue"
)

// goFiles lists the module's Go files, skipping hidden directories, testdata and this
// package (whose examples of bad references are bad on purpose).
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	self, err := filepath.Abs(".")
	require.NoError(t, err)
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || p == self) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// checkRef reports what is wrong with the reference that starts at line[i:] (the match m of
// refRE), or "".
func checkRef(line string, m []int, sem, cat spec) string {
	if m[2] < 0 {
		return "§ without a section number"
	}
	ref := line[m[2]:m[3]]
	if strings.Count(ref, ".") > 1 {
		return "§" + ref + " is not a section (write §N.M item K)"
	}
	doc, name := sem, "postfix-semantics.md"
	if strings.Contains(line[max(0, m[0]-40):m[0]], catalogued) {
		doc, name = cat, "failure-catalogue.md"
	}
	// §9.K is test vector K of section 9.
	if n, k, ok := strings.Cut(ref, "."); ok && n == "9" && doc.items["9"] != nil && !doc.sections[ref] {
		v, _ := strconv.Atoi(k)
		if !doc.items["9"][v] {
			return "§" + ref + ": " + name + " has no test vector " + k
		}
		return ""
	}
	if !doc.sections[ref] {
		return "§" + ref + ": no such section in " + name
	}
	im := itemRefRE.FindStringSubmatch(line[m[1]:])
	if im == nil {
		return ""
	}
	sec := ref
	if im[1] == "vector" {
		sec = "9"
	}
	lo, _ := strconv.Atoi(im[2])
	hi := lo
	if im[3] != "" {
		hi, _ = strconv.Atoi(im[3])
	}
	for k := lo; k <= hi; k++ {
		if !doc.items[sec][k] {
			return "§" + ref + " " + im[1] + " " + strconv.Itoa(k) + ": no such numbered " + im[1] + " in " + name
		}
	}
	return ""
}

// TestSectionReferences checks every § reference and catalogue code in the module's Go
// files against the documents in docs/.
func TestSectionReferences(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	sem := readSpec(t, filepath.Join(root, "docs", "postfix-semantics.md"))
	cat := readSpec(t, filepath.Join(root, "docs", "failure-catalogue.md"))
	// The parser must see the documents as they are, or every reference would fail (or,
	// worse, a broken parser that sees too much would pass everything).
	require.True(t, sem.sections["6.4"] && sem.sections["10.2"] && !sem.sections["6.9"], "headings of postfix-semantics.md")
	require.GreaterOrEqual(t, len(sem.items["9"]), 70, "test vectors of postfix-semantics.md §9")
	require.True(t, sem.items["6.1"][11] && sem.items["2.4"][5], "numbered rules of §6.1 and §2.4")
	require.True(t, cat.sections["0.2"] && cat.codes["B-1"] && cat.codes["J-4"], "sections and codes of failure-catalogue.md")

	refs := 0
	for _, p := range goFiles(t, root) {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, p)
		for n, line := range strings.Split(string(b), "\n") {
			for _, m := range refRE.FindAllStringSubmatchIndex(line, -1) {
				if rfcRE.MatchString(line[max(0, m[0]-12):m[0]]) {
					continue
				}
				refs++
				assert.Emptyf(t, checkRef(line, m, sem, cat), "%s:%d", rel, n+1)
			}
			for _, m := range catCodeRE.FindAllStringSubmatch(line, -1) {
				assert.Truef(t, cat.codes[m[1]], "%s:%d: %s is not an entry of failure-catalogue.md", rel, n+1, m[1])
			}
		}
	}
	assert.Greater(t, refs, 500, "the code cites the specification throughout")
}

// TestCheckRef pins the reference forms the checker understands.
func TestCheckRef(t *testing.T) {
	sem := spec{
		sections: map[string]bool{"6": true, "6.1": true, "9": true},
		items:    map[string]map[int]bool{"6.1": {3: true, 4: true}, "9": {16: true}},
	}
	cat := spec{sections: map[string]bool{"0.2": true}}
	cases := []struct {
		line string
		ok   bool
	}{
		{"// §6.1: preconditions", true},
		{"// §6.1 item 3", true},
		{"// §6.1 items 3-4", true},
		{"// §6.1 item 5", false},
		{"// §6.1 items 4-5", false},
		{"// §6.2", false},
		{"// §9.16 and §9 vector 16", true},
		{"// §9.17", false},
		{"// §9 vectors 16-17", false},
		{"// §6.1.3", false},
		{"// § alone", false},
		{"// failure-catalogue §0.2", true},
		{"// §0.2", false},
	}
	for _, c := range cases {
		bad := ""
		for _, m := range refRE.FindAllStringSubmatchIndex(c.line, -1) {
			if msg := checkRef(c.line, m, sem, cat); msg != "" {
				bad = msg
			}
		}
		assert.Equal(t, c.ok, bad == "", "%s: %s", c.line, bad)
	}
}
