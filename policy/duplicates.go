package policy

import (
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/policy/finding"
)

// DuplicateFixes returns, for a policy that is invalid because its texthash: table holds a
// key twice (dict_thash refuses the whole table: "is unavailable ... duplicate entry"), the
// edits that delete one of the two rows: the table's source file with the repeated row
// removed (the one postmap would ignore), then with the first one removed instead. Each is
// a FixFile with the new content; nil when the policy has no such problem or the file
// cannot be read again.
func (p Policy) DuplicateFixes() []finding.Fix {
	if len(p.duplicates) == 0 || p.from == nil {
		return nil
	}
	d := p.duplicates[0]
	data, err := p.from.s.readFile(d.File)
	if err != nil {
		return nil
	}
	lines := strings.SplitAfter(string(data), "\n")
	drop := func(first, last int) (string, bool) {
		if first < 1 || last < first || last > len(lines) {
			return "", false
		}
		return strings.Join(lines[:first-1], "") + strings.Join(lines[last:], ""), true
	}
	var out []finding.Fix
	for _, c := range []struct {
		first, last int
		raw         string
		kept        int
	}{
		{d.Line, d.Last, d.Raw, d.First.Line},
		{d.First.Line, d.First.Last, d.First.Raw, d.Line},
	} {
		content, ok := drop(c.first, c.last)
		if !ok {
			continue
		}
		out = append(out, finding.Fix{Kind: finding.FixFile, Key: d.File, Content: content,
			Note: fmt.Sprintf("delete line %d (%s): texthash: refuses a table that holds the key %q twice (also on line %d)",
				c.first, strings.TrimSpace(c.raw), d.Key, c.kept)})
	}
	return out
}
