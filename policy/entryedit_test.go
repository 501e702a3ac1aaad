package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEntryEdit(t *testing.T) {
	cases := []struct {
		name    string
		value   string
		edit    RowEdit
		want    string
		wantErr string
	}{
		{"Set inserts an absent attribute after the level", "secure ciphers=high", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", ".messagingengine.com"}}},
			"secure match=.messagingengine.com ciphers=high", ""},
		{"several absent attributes keep their order", "secure ciphers=high", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "a"}, {"protocols", ">=TLSv1.2"}}},
			"secure match=a protocols=>=TLSv1.2 ciphers=high", ""},
		{"Set replaces the first attribute in place and drops later ones", "secure match=a ciphers=high match=b",
			RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "c"}}}, "secure match=c ciphers=high", ""},
		{"names compare case-insensitively (strcasecmp)", "secure MATCH=a", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "b"}}}, "secure match=b", ""},
		{"Level replaces the level word only", "Secure   match=a,ciphers=high", RowEdit{Level: Verify}, "verify match=a ciphers=high", ""},
		{"untouched brace groups stay as written", "secure { match = a b } ciphers=high", RowEdit{Level: LevelNotSet, Remove: []string{"ciphers"}},
			"secure { match = a b }", ""},
		{"Remove deletes every occurrence", "secure match=a match=b exclude=x", RowEdit{Level: LevelNotSet, Remove: []string{"Match"}}, "secure exclude=x", ""},
		{"DropBad deletes the misspelled attribute", "secure tls_connection_reuse=yes ciphers=high", RowEdit{Level: LevelNotSet, DropBad: true},
			"secure ciphers=high", ""},
		{"tokens Postfix never parsed are kept and can be set", "secure bogus ciphers=low", RowEdit{Level: LevelNotSet, DropBad: true, Set: []Attribute{{"ciphers", "high"}}},
			"secure ciphers=high", ""},
		{"ignored tokens after none are kept", "none match=x", RowEdit{Level: May}, "may match=x", ""},
		{"an empty entry with a level gives the level word", "", RowEdit{Level: Encrypt}, "encrypt", ""},
		{"an empty entry without a level is an error", "", RowEdit{Level: LevelNotSet}, "", "no level"},
		{"a bad level word needs a Level", "secrue match=x", RowEdit{Level: LevelNotSet, DropBad: true}, "", "give the new Level"},
		{"a bad level word is replaced by Level", "secrue match=x", RowEdit{DropBad: true, Level: Secure}, "secure match=x", ""},
		{"a value with whitespace uses braces in 3.10+", "secure", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "a b"}}}, "secure { match = a b }", ""},
		{"a value with a comma is an error before 3.10", "secure", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "a,b"}}, Version: V(3, 9, 1)}, "", "3.10"},
		{"an invalid attribute name is an error", "secure", RowEdit{Level: LevelNotSet, Set: []Attribute{{"a=b", "c"}}}, "", "invalid attribute name"},
		{"unbalanced braces are an error in 3.10+", "secure", RowEdit{Level: LevelNotSet, Set: []Attribute{{"match", "{a"}}}, "", "unbalanced"},
		{"an appended attribute goes before a last token with an open brace", "secure match={x", RowEdit{Level: LevelNotSet, Set: []Attribute{{"ciphers", "high"}}},
			"secure ciphers=high match={x", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := c.edit.Version
			e := ParseEntry(c.value, EntryContext{Version: v})
			got, err := e.Edit(c.edit)
			if c.wantErr != "" {
				require.ErrorContains(t, err, c.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

var fuzzAttrNames = []string{"match", "ciphers", "protocols", "exclude", "servername", "connection_reuse", "tafile", "bogus"}

func FuzzEntryEdit(f *testing.F) {
	f.Add("secure ciphers=high", uint8(5), uint8(0), ".example.com", uint8(1))
	f.Add("verify { match = a b } tls_x=1", uint8(4), uint8(0), "a b", uint8(7))
	f.Add("", uint8(2), uint8(2), ">=TLSv1.2", uint8(0))
	f.Add("none match=x,,ciphers=low", uint8(1), uint8(3), "", uint8(2))
	f.Fuzz(func(t *testing.T, value string, lvl, setIdx uint8, setVal string, rmIdx uint8) {
		value = strings.ReplaceAll(value, "\x00", "")
		levels := []Level{None, May, Encrypt, Fingerprint, Verify, Secure, Dane, DaneOnly}
		ed := RowEdit{Level: levels[int(lvl)%len(levels)], DropBad: lvl&0x80 != 0,
			Set:    []Attribute{{fuzzAttrNames[int(setIdx)%len(fuzzAttrNames)], setVal}},
			Remove: []string{fuzzAttrNames[int(rmIdx)%len(fuzzAttrNames)]}}
		if ed.Remove[0] == ed.Set[0].Name {
			ed.Remove = nil
		}
		e := ParseEntry(value, EntryContext{})
		got, err := e.Edit(ed)
		if err != nil {
			return
		}
		after := ParseEntry(got, EntryContext{})
		require.NotEmpty(t, after.Tokens, "%q -> %q", value, got)
		require.Equal(t, ed.Level.String(), after.Tokens[0].Text, "%q -> %q", value, got)
		trim := func(s string) string { return strings.Trim(s, " \t\n\v\f\r") }
		var set []string
		kept := map[string]int{}
		for _, tk := range after.Tokens[1:] {
			name, val, ok := tokenAttribute(tk, true)
			if ok && strings.EqualFold(name, ed.Set[0].Name) {
				set = append(set, val)
			}
			if ok && len(ed.Remove) > 0 {
				require.False(t, strings.EqualFold(name, ed.Remove[0]), "%q -> %q: removed attribute remains", value, got)
			}
			kept[tk.Text]++
		}
		require.Equal(t, normSpace([]string{trim(setVal)}), normSpace(set), "%q -> %q", value, got)
		// Every other original token is still there, as written.
		for i, tk := range e.Tokens {
			if i == 0 || ed.DropBad && i == e.BadToken {
				continue
			}
			name, _, ok := tokenAttribute(tk, true)
			if ok && (strings.EqualFold(name, ed.Set[0].Name) || len(ed.Remove) > 0 && strings.EqualFold(name, ed.Remove[0])) {
				continue
			}
			require.Positive(t, kept[tk.Text], "%q -> %q: token %q lost", value, got, tk.Text)
			kept[tk.Text]--
		}
	})
}

// normSpace turns control whitespace into spaces, as Postfix's extpar does inside braces.
func normSpace(vals []string) []string {
	for i, v := range vals {
		b := []byte(v)
		for j, c := range b {
			if c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
				b[j] = ' '
			}
		}
		vals[i] = string(b)
	}
	return vals
}
