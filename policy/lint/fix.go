package lint

import (
	"strings"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/tables"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// Lint's suggestions are typed edits (finding.Fix, the type Diagnose proposes), built from
// the administrator's own row (policy.Entry.Edit keeps every attribute that is not the
// cause) or by the shared builders (policy.Entry.CorrectionFixes). Lint has no server to
// observe, so each is proven against the policy engine instead (verdict.ProveConfig): the
// loaded Settings changed as the fix says, the policy for the next hop computed again, and
// a fix shown only when Postfix accepts the result, the evaluator would not defer for a
// configuration reason, and the level is not lower unless the fix is labelled a downgrade.

// checkHop is the next hop the proofs of main.cf fixes compute a policy for: a name no
// policy table holds, so the global settings decide.
const checkHop = "lint-check.invalid"

// maxProofCache bounds the proof answers kept.
const maxProofCache = 4096

// proofKey identifies a proof whose answer does not depend on the row's key beyond its
// shape (".domain", "[host]", bare).
type proofKey struct {
	client          policy.Client
	kind            finding.FixKind
	table, value    string
	key             string // for fixes other than table rows
	shape           byte
	del             bool
	requires        int
	downgrade, want string
}

type proofAnswer struct {
	ok             bool
	proven, effect string
}

// keyShape classifies a table key for the proof cache.
func keyShape(k string) byte {
	switch {
	case strings.HasPrefix(k, "."):
		return '.'
	case strings.HasPrefix(k, "["):
		return '['
	case strings.Contains(k, ":"):
		return ':'
	}
	return 'd'
}

// hopFor is the next hop a row keyed k applies to: k itself, or a subdomain for a
// ".domain" key.
func hopFor(c policy.Client, k string) (policy.NextHop, bool) {
	if strings.HasPrefix(k, ".") {
		k = "sub" + k
	}
	h, err := policy.ParseNextHop(c, k, policy.NextHopOptions{DefaultService: "smtp"})
	return h, err == nil
}

// prove returns the fixes that pass verdict.ProveConfig for the next hop key (the row's
// key, or checkHop for main.cf fixes), one per distinct effect, in the order given. want is
// the level the administrator's configuration gives the destination now (LevelNotSet: no
// bound).
func (l *linter) prove(c policy.Client, key string, want policy.Level, cands ...finding.Fix) []finding.Fix {
	return l.proveN(0, c, key, want, cands...)
}

// proveN is prove that stops after n proven fixes (0: all).
func (l *linter) proveN(n int, c policy.Client, key string, want policy.Level, cands ...finding.Fix) []finding.Fix {
	if len(cands) == 0 || l.s == nil {
		return nil
	}
	hop, ok := hopFor(c, key)
	if !ok {
		return nil
	}
	var (
		p0    policy.Policy
		have  bool
		out   []finding.Fix
		seen  = map[string]bool{}
		shape = keyShape(key)
	)
	for _, fx := range cands {
		pk := proofKey{client: c, kind: fx.Kind, table: fx.Table, value: fx.Value, shape: shape, del: fx.Delete,
			requires: len(fx.Requires), downgrade: fx.Downgrade, want: want.String()}
		if fx.Kind != finding.FixTableRow {
			pk.key = fx.Key + "\x00" + key
			for _, r := range fx.Requires {
				pk.key += "\x00" + r.String()
			}
		}
		a, cached := l.proofs[pk]
		if !cached {
			if !have {
				rt := policy.Route{Destination: hop.Key, Transport: string(c), Client: c, Nexthop: hop.Key}
				p0, _ = l.s.PolicyFor(l.ctx, rt, hop, "") // beside an error: a policy With can start from
				have = true
			}
			p2, err := verdict.ProveConfig(l.ctx, p0, hop, &fx, want)
			a = proofAnswer{ok: err == nil, proven: fx.Proven, effect: verdict.Effect(p2)}
			if len(l.proofs) < maxProofCache && l.ctx.Err() == nil {
				l.proofs[pk] = a
			}
		}
		if !a.ok || seen[a.effect] {
			continue
		}
		seen[a.effect] = true
		fx.Proven = a.proven
		out = append(out, fx)
		if len(out) == n {
			break
		}
	}
	return out
}

// want is the level a valid row gives its destination now: its level, or may for a dane
// row that the DNS settings make inert (§6.1).
func (l *linter) want(c policy.Client, lv policy.Level) policy.Level {
	if lv == policy.Dane && l.daneProblem[c][policy.Dane] != "" {
		return policy.May
	}
	return lv
}

// reparse parses a row's value again, with everything the entry checks need (the parsed
// chunk keeps only a compact form).
func (t *tableRun) reparse(key, value string) policy.Entry {
	ec := t.ecFix // parsing the next chunk writes t.ec.Key concurrently
	ec.Key = key
	return policy.ParseEntry(value, ec)
}

// rowValues are the values a row keyed anew can have: the row itself (its tokens as
// Postfix cut them) when it is valid, otherwise its corrections (labelled when they drop a
// security attribute).
func (t *tableRun) rowValues(e tables.Entry) (vals []finding.Fix, old string) {
	ent := t.reparse(e.Key, e.Value)
	old = ent.TokenText()
	if ent.Valid {
		v, err := ent.Edit(policy.RowEdit{Level: policy.LevelNotSet, Version: t.l.v})
		if err != nil {
			return nil, old
		}
		return []finding.Fix{{Value: v}}, old
	}
	ec := t.ecFix
	ec.Key = e.Key
	return ent.CorrectionFixes("", "", ec), old
}

// renameFixes are the fixes that move a row to the key newKey (the old row removed with
// it), proven for newKey.
func (t *tableRun) renameFixes(e tables.Entry, pe *parsedEntry, newKey, note string) []finding.Fix {
	vals, old := t.rowValues(e)
	var cands []finding.Fix
	for _, v := range vals {
		fx := finding.Fix{Kind: finding.FixTableRow, Table: t.spec, Key: newKey, Value: v.Value, Note: note, Downgrade: v.Downgrade,
			Requires: []finding.Fix{{Kind: finding.FixTableRow, Table: t.spec, Key: e.Key, Old: old, Delete: true}}}
		if v.Note != "" {
			fx.Note += "; " + v.Note
		}
		cands = append(cands, fx)
	}
	want := policy.LevelNotSet
	if pe.Valid {
		want = t.l.want(t.client, pe.Level)
	}
	return t.l.prove(t.client, newKey, want, cands...)
}

// editFixes are fixes of the row itself, each built with policy.Entry.Edit from the row as
// written (every attribute an edit does not name is kept), proven for its key.
func (t *tableRun) editFixes(e tables.Entry, want policy.Level, eds ...rowEditFix) []finding.Fix {
	ent := t.reparse(e.Key, e.Value)
	old := ent.TokenText()
	var cands []finding.Fix
	for _, ed := range eds {
		ed.edit.Version = t.l.v
		v, err := ent.Edit(ed.edit)
		if err != nil || v == old {
			continue
		}
		cands = append(cands, finding.Fix{Kind: finding.FixTableRow, Table: t.spec, Key: e.Key, Value: v, Old: old, Note: ed.note, Downgrade: ed.downgrade})
	}
	return t.l.prove(t.client, e.Key, want, cands...)
}

// rowEditFix is one candidate edit of a row.
type rowEditFix struct {
	edit            policy.RowEdit
	note, downgrade string
}

// deleteFix removes the row, proven for its key (the global level then decides).
func (t *tableRun) deleteFix(e tables.Entry, note string) []finding.Fix {
	ent := t.reparse(e.Key, e.Value)
	return t.l.prove(t.client, e.Key, policy.LevelNotSet,
		finding.Fix{Kind: finding.FixTableRow, Table: t.spec, Key: e.Key, Old: ent.TokenText(), Delete: true, Note: note})
}

// setFix is the main.cf edit name = value, or the removal of name when value is empty.
func setFix(name, value, note string) finding.Fix {
	if value == "" {
		return finding.Fix{Kind: finding.FixMainCF, Key: name, Delete: true, Note: note}
	}
	return finding.Fix{Kind: finding.FixMainCF, Key: name, Value: value, Note: note}
}

// fixText renders the proven fixes for people: each as the line to paste with its note,
// what a downgrade gives up and what goes with it, after the advice in words (prose).
func fixText(prose string, edits []finding.Fix) string {
	return render(prose, edits, true)
}

// render is fixText, with or without the fixes' notes.
func render(prose string, edits []finding.Fix, notes bool) string {
	parts := make([]string, 0, len(edits))
	for _, x := range edits {
		s := x.String()
		var c []string
		if x.Note != "" && notes {
			c = append(c, x.Note)
		}
		for _, r := range x.Requires {
			if r.Kind == finding.FixTableRow && r.Delete && r.Table == x.Table {
				c = append(c, "replaces the row "+r.Key)
				continue
			}
			c = append(c, "together with "+r.String())
		}
		if x.Downgrade != "" {
			c = append(c, "DOWNGRADE: "+x.Downgrade)
		}
		if len(c) > 0 {
			s += "   (" + strings.Join(c, "; ") + ")"
		}
		parts = append(parts, s)
	}
	text := strings.Join(parts, "; or: ")
	switch {
	case prose == "":
		return text
	case text == "":
		return prose
	}
	return prose + ": " + text
}

// withEdits sets a finding's typed fixes and its text: the proven edits, or, when none
// passed the proof, the advice in words alone (fallback, "" to keep prose alone).
func (f *Finding) withEdits(prose string, edits []finding.Fix, fallback string) {
	f.Edits = edits
	if len(edits) == 0 && fallback != "" {
		prose = strings.TrimSpace(prose + " " + fallback)
	}
	f.Fix = fixText(prose, edits)
}
