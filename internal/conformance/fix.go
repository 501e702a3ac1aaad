package conformance

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/postfixtls/postfixtls/policy/finding"
)

// The tables of a case's world, as main.cf names them (baseMainCF).
const (
	policyTable    = "texthash:/etc/postfix/tls_policy"
	transportTable = "texthash:/etc/postfix/transport"
)

// ErrNotApplicable is wrapped by ApplyFix for an edit a case's world cannot express.
var ErrNotApplicable = errors.New("conformance: fix not applicable to a case")

// ApplyFix returns a copy of c with the edit fx (and the edits it Requires) made:
//   - table-row on the policy or transport table replaces the row with that key (or appends
//     "key value"; Delete removes it);
//   - main.cf replaces or appends "name = value" in MainCF (Delete removes a MainCF line,
//     and is not applicable to a parameter the base main.cf sets);
//   - dns-record appends "owner value" to Zone;
//   - file sets Files[path] (paths under /etc/postfix/ only; Delete removes it);
//   - command "postmap ..." changes nothing (the world's tables are texthash).
//
// Any other edit (master.cf, server, text, other commands, other tables) gives an error
// wrapping ErrNotApplicable.
func ApplyFix(c Case, fx finding.Fix) (Case, error) {
	n := c
	n.Policy = append([]string(nil), c.Policy...)
	n.Transport = append([]string(nil), c.Transport...)
	n.MainCF = append([]string(nil), c.MainCF...)
	n.Zone = append([]string(nil), c.Zone...)
	n.Servers = append([]Server(nil), c.Servers...)
	n.Files = make(map[string]string, len(c.Files))
	for k, v := range c.Files {
		n.Files[k] = v
	}
	if err := applyEdit(&n, fx); err != nil {
		return c, err
	}
	if len(n.Files) == 0 {
		n.Files = nil
	}
	return n, nil
}

func applyEdit(c *Case, fx finding.Fix) error {
	for _, r := range fx.Requires {
		if err := applyEdit(c, r); err != nil {
			return err
		}
	}
	switch fx.Kind {
	case finding.FixTableRow:
		var rows *[]string
		switch fx.Table {
		case policyTable, "", "regexp:/etc/postfix/tls_policy", "pcre:/etc/postfix/tls_policy":
			// A case's MainCF may name its policy file as a pattern table; a row of it is
			// then a rule, keyed by its pattern.
			rows = &c.Policy
		case transportTable:
			rows = &c.Transport
		default:
			return fmt.Errorf("%w: table %s is not one of the world's", ErrNotApplicable, fx.Table)
		}
		if fx.Key == "" {
			return fmt.Errorf("%w: table row without a key", ErrNotApplicable)
		}
		*rows = setLine(*rows, fx.Key, fx.Key+" "+fx.Value, fx.Delete, func(l string) string {
			if f := strings.Fields(l); len(f) > 0 {
				return f[0]
			}
			return ""
		})
	case finding.FixMainCF:
		if fx.Key == "" {
			return fmt.Errorf("%w: main.cf edit without a name", ErrNotApplicable)
		}
		mainName := func(l string) string {
			name, _, _ := strings.Cut(l, "=")
			return strings.TrimSpace(name)
		}
		if fx.Delete && baseSets(fx.Key) {
			return fmt.Errorf("%w: removing %s, which the world's base main.cf sets", ErrNotApplicable, fx.Key)
		}
		c.MainCF = setLine(c.MainCF, fx.Key, fx.Key+" = "+fx.Value, fx.Delete, mainName)
	case finding.FixDNSRecord:
		if fx.Key == "" || fx.Delete {
			return fmt.Errorf("%w: DNS record edit %q", ErrNotApplicable, fx.String())
		}
		owner := fx.Key
		if !strings.HasSuffix(owner, ".") {
			owner += "."
		}
		c.Zone = append(c.Zone, owner+" "+fx.Value)
	case finding.FixFile:
		name := filepath.Clean(fx.Key)
		if rel, ok := strings.CutPrefix(name, "/etc/postfix/"); !ok || rel == "" || strings.HasPrefix(rel, "../") {
			return fmt.Errorf("%w: file %s is outside /etc/postfix/", ErrNotApplicable, fx.Key)
		}
		switch {
		case name == strings.TrimPrefix(policyTable, "texthash:") && !fx.Delete:
			// The world writes its policy table from Policy, a row per line.
			c.Policy = strings.Split(strings.TrimSuffix(fx.Content, "\n"), "\n")
		case fx.Delete:
			delete(c.Files, name)
		default:
			c.Files[name] = fx.Content
		}
	case finding.FixCommand:
		if f := strings.Fields(fx.Value); len(f) > 0 && f[0] == "postmap" {
			return nil // the world's tables are texthash: read as written, nothing to index
		}
		return fmt.Errorf("%w: command %q", ErrNotApplicable, fx.Value)
	default:
		return fmt.Errorf("%w: %s edit %q", ErrNotApplicable, fx.Kind, fx.String())
	}
	return nil
}

// setLine replaces the lines whose key (as keyOf reads it, compared case-insensitively) is
// key with line, keeping the first one's place, or appends line; with del it removes them.
func setLine(lines []string, key, line string, del bool, keyOf func(string) string) []string {
	var out []string
	done := del
	for _, l := range lines {
		if !strings.EqualFold(keyOf(l), key) {
			out = append(out, l)
			continue
		}
		if !done {
			out = append(out, line)
			done = true
		}
	}
	if !done {
		out = append(out, line)
	}
	return out
}

// baseSets reports whether the world's base main.cf sets the parameter name
// (compatibility_level counts: the base sets it for every release that has one).
func baseSets(name string) bool {
	for _, l := range strings.Split(baseMainCF("/pf", "/certs", "3.7"), "\n") {
		if n, _, ok := strings.Cut(l, "="); ok && strings.TrimSpace(n) == name {
			return true
		}
	}
	return false
}
