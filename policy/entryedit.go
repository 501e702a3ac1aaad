package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// RowEdit is a change of a policy table value (see Entry.Edit).
type RowEdit struct {
	// Level is the new level; LevelNotSet keeps the entry's. (The zero Level is None:
	// set LevelNotSet explicitly to keep the level.)
	Level Level
	// Set are the name=value attributes to set: each replaces the first attribute of that
	// name in place and drops later ones of that name, or, when absent, is inserted right
	// after the level word (Set order kept).
	Set []Attribute
	// Remove are attribute names to delete (all occurrences).
	Remove []string
	// DropBad deletes the token that made the entry invalid (Entry.BadToken), such as a
	// misspelled attribute. When that token is the level word, Level must be given.
	DropBad bool
	// Version is the Postfix release the value is written for; the zero Version means
	// Latest(). A Set value with whitespace or a comma needs the brace form
	// "{ name = value }" of Postfix 3.10 and later.
	Version Version
}

// Attribute is one name=value attribute of a policy table value.
type Attribute struct{ Name, Value string }

// Edit returns the value text of the entry after the edit, built from e.Tokens: every
// token the edit does not touch stays exactly as written (brace groups, tokens Postfix
// ignored or never parsed included), tokens joined by one space. Attribute names compare
// case-insensitively, as smtp_tls_policy.c compares them (strcasecmp). An entry without
// tokens gives the level word (and the Set attributes). It is an error to set an
// attribute with an invalid name, a value that needs braces before Postfix 3.10, a value
// with unbalanced braces (3.10 and later), or to leave the entry without a level.
func (e *Entry) Edit(ed RowEdit) (string, error) {
	v := ed.Version
	if v == (Version{}) {
		v = Latest()
	}
	braces := v.AtLeast(3, 10, 0)
	type tok struct {
		text, name string
		level      bool
	}
	toks := make([]tok, 0, len(e.Tokens)+len(ed.Set)+1)
	for i, t := range e.Tokens {
		if ed.DropBad && i == e.BadToken {
			if t.Kind == TokenLevel && ed.Level == LevelNotSet {
				return "", errors.New("the invalid token is the level: give the new Level")
			}
			if t.Kind != TokenLevel {
				continue
			}
		}
		if t.Kind == TokenLevel {
			toks = append(toks, tok{text: t.Text, level: true})
			continue
		}
		name, _, ok := tokenAttribute(t, braces)
		if !ok {
			name = ""
		}
		toks = append(toks, tok{text: t.Text, name: name})
	}
	if ed.Level != LevelNotSet {
		if ed.Level < None || ed.Level.String() == "" || strings.HasPrefix(ed.Level.String(), "Level(") {
			return "", fmt.Errorf("invalid level %d", int(ed.Level))
		}
		if len(toks) > 0 && toks[0].level {
			toks[0].text = ed.Level.String()
		} else {
			toks = append([]tok{{text: ed.Level.String(), level: true}}, toks...)
		}
	}
	if len(toks) == 0 || !toks[0].level {
		return "", errors.New("the entry has no level: give the new Level")
	}
	for _, r := range ed.Remove {
		kept := toks[:1]
		for _, t := range toks[1:] {
			if t.name == "" || !pfutil.StrcaseEq(t.name, r) {
				kept = append(kept, t)
			}
		}
		toks = kept
	}
	ins := 1
	for _, a := range ed.Set {
		text, err := attributeText(a, braces)
		if err != nil {
			return "", err
		}
		done := false
		kept := toks[:1]
		for _, t := range toks[1:] {
			if t.name != "" && pfutil.StrcaseEq(t.name, a.Name) {
				if done {
					continue
				}
				t.text, t.name, done = text, a.Name, true
			}
			kept = append(kept, t)
		}
		toks = kept
		if !done {
			// New attributes go right after the level, as Postfix's documentation writes
			// them ("secure match=... ciphers=high"), in the order given.
			at := ins
			ins++
			toks = append(toks[:at], append([]tok{{text: text, name: a.Name}}, toks[at:]...)...)
		}
	}
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.text
	}
	return strings.Join(parts, " "), nil
}

// tokenAttribute splits a token as Postfix splits an attribute (brace group first, in
// 3.10 and later), whatever Postfix did with the token.
func tokenAttribute(t Token, braces bool) (name, value string, ok bool) {
	if t.Name != "" {
		return t.Name, t.Value, true
	}
	text := t.Text
	if braces && strings.HasPrefix(text, "{") {
		inner, err := pfExtpar(text)
		if err != "" {
			return "", "", false
		}
		text = inner
	}
	name, value, err := pfSplitNameVal(text, true)
	return name, value, err == ""
}

// attributeText writes an attribute as one token: name=value, or the brace form when the
// value holds separators.
func attributeText(a Attribute, braces bool) (string, error) {
	if a.Name == "" || strings.ContainsAny(a.Name, ", \t\r\n\v\f={}\x00") {
		return "", fmt.Errorf("invalid attribute name %q", a.Name)
	}
	if strings.ContainsRune(a.Value, 0) {
		return "", fmt.Errorf("attribute %s: the value holds a NUL byte", a.Name)
	}
	if braces && openDepth(a.Value) > 0 {
		return "", fmt.Errorf("attribute %s: unbalanced braces in %q", a.Name, a.Value)
	}
	if !strings.ContainsAny(a.Value, ", \t\r\n\v\f") {
		return a.Name + "=" + a.Value, nil
	}
	if braces && braceDepth(a.Value) != 0 {
		return "", fmt.Errorf("attribute %s: unbalanced braces in %q", a.Name, a.Value)
	}
	if !braces {
		return "", fmt.Errorf("attribute %s: the value %q holds whitespace or a comma, which needs the { name = value } form of Postfix 3.10 and later", a.Name, a.Value)
	}
	return "{ " + a.Name + " = " + a.Value + " }", nil
}

// openDepth is the brace nesting the 3.10+ tokenizer is in at the end of s (a '}' outside
// braces is an ordinary character).
func openDepth(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '{':
			d++
		case s[i] == '}' && d > 0:
			d--
		}
	}
	return d
}

// braceDepth is the nesting left open at the end of s (negative: more '}' than '{'
// before the first '{' closes).
func braceDepth(s string) int {
	d := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			d++
		case '}':
			if d == 0 {
				return -1
			}
			d--
		}
	}
	return d
}
