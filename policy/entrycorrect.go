package policy

import (
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// Corrections returns values for an invalid entry that Postfix accepts, nearest first: the
// token Postfix rejected repaired (a missing '=' or spaces around it, a comma in a match list,
// a misspelled level, a 3.10 brace group on an older release) or dropped, repeated while the
// result is still invalid (at most four values). Each value parses as valid with ec (which
// should be the context the entry was parsed with); whether it delivers is for the caller to
// prove. A valid entry has none.
func (e *Entry) Corrections(ec EntryContext) []string {
	if e.Valid {
		return nil
	}
	v := ec.Version
	if v == (Version{}) {
		v = Latest()
	}
	var out []string
	seen := map[string]bool{}
	var walk func(ent Entry, depth int)
	walk = func(ent Entry, depth int) {
		if depth > 4 || len(out) >= 4 {
			return
		}
		for _, val := range repairs(ent, v) {
			if seen[val] {
				continue
			}
			seen[val] = true
			next := ParseEntry(val, ec)
			if !next.Valid {
				walk(next, depth+1)
				continue
			}
			out = append(out, val)
		}
	}
	walk(*e, 0)
	return out
}

// CorrectionFixes returns Corrections as typed fixes of the row key in table (the table as
// configured): each replaces the row's value (Old, its tokens as Postfix cut them), and one
// that drops a security attribute the row had (protocols=, exclude=, ciphers=, tafile=,
// match=) says so in Downgrade. Whether a fix delivers is for the caller to prove: Diagnose
// against the observed session, lint against the policy engine (verdict.ProveConfig).
func (e *Entry) CorrectionFixes(table, key string, ec EntryContext) []finding.Fix {
	vals := e.Corrections(ec)
	if len(vals) == 0 {
		return nil
	}
	old := e.TokenText()
	out := make([]finding.Fix, 0, len(vals))
	for _, val := range vals {
		fx := finding.Fix{Kind: finding.FixTableRow, Table: table, Key: key, Value: val,
			Old: old, Note: "the row with what Postfix rejected (" + e.Problem + ") corrected"}
		if e.LevelUnknown() {
			fx.Note = fmt.Sprintf("a candidate, not a correction: %q misspells no level, so the level you meant is unknown; this row uses %s (candidates strongest first)", e.Tokens[0].Text, strings.Fields(val)[0])
		}
		for _, name := range []string{"protocols", "exclude", "ciphers", "tafile", "match"} {
			if hasAttr(old, name) && !hasAttr(val, name) {
				fx.Downgrade = "drops the " + name + "= setting the row had"
				break
			}
		}
		out = append(out, fx)
	}
	return out
}

// TokenText is the entry's value as Postfix cut it: its tokens joined by one space.
func (e *Entry) TokenText() string {
	parts := make([]string, len(e.Tokens))
	for i, t := range e.Tokens {
		parts[i] = t.Text
	}
	return strings.Join(parts, " ")
}

// hasAttr reports whether a policy value has a name= attribute.
func hasAttr(value, name string) bool {
	for _, t := range strings.Fields(strings.ToLower(value)) {
		if strings.HasPrefix(strings.TrimLeft(t, "{ "), name+"=") || strings.TrimLeft(t, "{") == name {
			return true
		}
	}
	return false
}

// CandidateLevels returns the levels Corrections offers, strongest first, for a level word that
// misspells none (dane needs DNSSEC and fingerprint its pins, so neither is a blind guess).
func CandidateLevels() []Level { return []Level{Secure, Verify, Encrypt, May} }

// NearestLevel returns the security level whose name word most plausibly misspells: the
// nearest level name within edit distance 2 (case folded), none for a word nearer to no
// level. The internal half-dane is not a level one configures.
func NearestLevel(word string) (Level, bool) {
	w := strings.ToLower(word)
	best, bd := LevelNotSet, 3
	for l := None; l <= Secure; l++ {
		if l == HalfDane {
			continue
		}
		if d := pfutil.EditDistance(w, l.String()); d < bd {
			best, bd = l, d
		}
	}
	return best, best != LevelNotSet
}

// LevelUnknown reports whether the entry is invalid for its level word and that word
// misspells no level: the intended level cannot be told, and Corrections gives candidate
// rows at CandidateLevels.
func (e *Entry) LevelUnknown() bool {
	if e.Valid || e.BadToken != 0 || len(e.Tokens) == 0 || e.Tokens[0].Kind != TokenLevel {
		return false
	}
	_, near := NearestLevel(e.Tokens[0].Text)
	return !near
}

// repairs are the values that repair or drop the entry's bad token.
func repairs(ent Entry, v Version) []string {
	i := ent.BadToken
	if i < 0 || i >= len(ent.Tokens) {
		return nil
	}
	texts := make([]string, len(ent.Tokens))
	for j, t := range ent.Tokens {
		texts[j] = t.Text
	}
	with := func(j int, repl ...string) string {
		out := append(append(append([]string(nil), texts[:j]...), repl...), texts[j+1:]...)
		return strings.Join(out, " ")
	}
	bad := ent.Tokens[i]
	var vals []string
	if i == 0 {
		// The level word: the nearest level this release knows, or, when the word is no
		// plausible misspelling of any, the candidate levels strongest first (the intended
		// level is unknown: the caller must say so, see LevelUnknown).
		if l, ok := NearestLevel(bad.Text); ok {
			return []string{with(0, l.String())}
		}
		for _, l := range CandidateLevels() {
			vals = append(vals, with(0, l.String()))
		}
		return vals
	}
	name, value, hasEq := strings.Cut(bad.Text, "=")
	switch {
	case bad.Text == "{" || bad.Text == "}":
		// A brace of a 3.10 group, cut on its own by an older tokenizer: only dropping it
		// helps.
	case bad.Brace && !v.AtLeast(3, 10, 0):
		// Brace groups are 3.10+: the plain form, when the value has no whitespace.
		inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(bad.Text, "{"), "}"))
		n, val, ok := strings.Cut(inner, "=")
		if ok {
			val = strings.Join(strings.Fields(val), ":")
			vals = append(vals, with(i, strings.TrimSpace(n)+"="+strings.TrimSpace(val)))
		}
	case !hasEq && i+1 < len(texts) && strings.HasPrefix(texts[i+1], "="):
		// "match =x" or "match = x".
		rest := strings.TrimPrefix(texts[i+1], "=")
		if rest == "" && i+2 < len(texts) {
			out := append(append(append([]string(nil), texts[:i]...), name+"="+texts[i+2]), texts[i+3:]...)
			vals = append(vals, strings.Join(out, " "))
		} else if rest != "" {
			out := append(append(append([]string(nil), texts[:i]...), name+"="+rest), texts[i+2:]...)
			vals = append(vals, strings.Join(out, " "))
		}
	case hasEq && value == "" && i+1 < len(texts) && !strings.Contains(texts[i+1], "="):
		// "match= x".
		out := append(append(append([]string(nil), texts[:i]...), name+"="+texts[i+1]), texts[i+2:]...)
		vals = append(vals, strings.Join(out, " "))
	case !hasEq && i > 1 && listAttr(texts[i-1]):
		// "match=a,b" (or protocols=, exclude=): Postfix cuts the value at the comma, so
		// b stands alone; ':' separates the items of these lists.
		sep := ":"
		if ent.Level == Fingerprint && strings.HasPrefix(strings.ToLower(texts[i-1]), "match=") {
			sep = "|" // fingerprint match lists are '|'-separated (':' is inside each value)
		}
		out := append(append(append([]string(nil), texts[:i-1]...), texts[i-1]+sep+bad.Text), texts[i+1:]...)
		vals = append(vals, strings.Join(out, " "))
	case hasEq && strings.HasPrefix(ent.Problem, "invalid attribute name"):
		// A misspelled attribute name ("tls_connection_reuse=yes"): the nearest known one.
		n := strings.ToLower(name)
		for _, pfx := range []string{"smtp_tls_", "lmtp_tls_", "tls_", "smtp_", "lmtp_"} {
			n = strings.TrimPrefix(n, pfx)
		}
		best, bd := "", 3
		for _, a := range []string{"ciphers", "protocols", "exclude", "match", "tafile", "servername", "connection_reuse", "enable_rpk"} {
			if d := pfutil.EditDistance(n, a); d < bd {
				best, bd = a, d
			}
		}
		if best != "" {
			vals = append(vals, with(i, best+"="+value))
		}
	case hasEq && strings.Contains(value, ","):
		vals = append(vals, with(i, name+"="+strings.Join(strings.FieldsFunc(value, func(r rune) bool { return r == ',' }), ":")))
	}
	// Without the token.
	vals = append(vals, with(i))
	return vals
}

// listAttr reports whether a token is a match=, protocols= or exclude= attribute, whose
// values are lists.
func listAttr(tok string) bool {
	t := strings.ToLower(tok)
	return strings.HasPrefix(t, "match=") || strings.HasPrefix(t, "protocols=") || strings.HasPrefix(t, "exclude=")
}
