package finding

import "strings"

// FixKind says what a Fix edits.
type FixKind string

// The kinds of fixes.
const (
	// FixTableRow adds or replaces a row of a lookup table: Table is the table as
	// configured ("texthash:/etc/postfix/tls_policy"), Key the row's key, Value its value.
	FixTableRow FixKind = "table-row"
	// FixMainCF sets a main.cf parameter: Key = Value.
	FixMainCF FixKind = "main.cf"
	// FixMasterCF adds a master.cf service line: Key is the service name, Value the rest of
	// the line.
	FixMasterCF FixKind = "master.cf"
	// FixDNSRecord is a DNS record the receiving domain publishes: Key is the owner name,
	// Value the class, type and data ("IN TLSA 3 1 1 ab12…").
	FixDNSRecord FixKind = "dns-record"
	// FixFile creates or replaces the file Key with Content.
	FixFile FixKind = "file"
	// FixCommand is a command to run (Value), such as "postmap hash:/etc/postfix/tls_policy".
	FixCommand FixKind = "command"
	// FixServer is a change only the receiving server's operator can make (Value says it).
	FixServer FixKind = "server"
	// FixText is a fix read back from JSON that had no typed edit.
	FixText FixKind = "text"
)

// Fix is one proposed change, as a typed edit. String gives the line an administrator
// pastes.
type Fix struct {
	// Kind says what is edited; Table, Key and Value what and how (see the FixKind
	// constants).
	Kind  FixKind `json:"kind"`
	Table string  `json:"table,omitempty"`
	Key   string  `json:"key,omitempty"`
	Value string  `json:"value,omitempty"`
	// Old is the value the edit replaces (the row or parameter as it is now); empty for a
	// new row or parameter.
	Old string `json:"old,omitempty"`
	// Delete removes the row (Table, Key) or the parameter Key instead of setting it.
	Delete bool `json:"delete,omitempty"`
	// Content is the content of a FixFile, when it is known.
	Content string `json:"content,omitempty"`
	// Requires are edits that must be made together with this one (the trust-anchor file a
	// tafile= row names; the master.cf line a main.cf setting needs).
	Requires []Fix `json:"requires,omitempty"`
	// Note explains the fix in a few words.
	Note string `json:"note,omitempty"`
	// Downgrade says what the fix gives up ("delivers without authentication"); empty
	// when the level and the authentication stay as they are.
	Downgrade string `json:"downgrade,omitempty"`
	// ReceiverSide is set for changes only the receiving domain or server can make.
	ReceiverSide bool `json:"receiver_side,omitempty"`
	// Shadowed names an earlier table in the list that holds the same key and would win
	// over a row added to Table.
	Shadowed string `json:"shadowed,omitempty"`
	// Proven says how the fix was checked: the outcome of judging the same observation
	// again with the edit applied ("deliver at secure"); empty when it could not be
	// checked from the sending side (ReceiverSide fixes are proven against the
	// observation changed as the fix says).
	Proven string `json:"proven,omitempty"`
}

// String renders the fix as the line to paste: "example.com secure match=.example.net" for
// a table row, "name = value" for main.cf, the record, the command, the file name.
func (f Fix) String() string {
	switch f.Kind {
	case FixTableRow:
		if f.Delete {
			return "delete the row " + strings.TrimSpace(f.Key+" "+f.Old) + " from " + f.Table
		}
		return f.Key + " " + f.Value
	case FixMainCF:
		if f.Delete {
			return "remove " + f.Key + " from main.cf"
		}
		return f.Key + " = " + f.Value
	case FixMasterCF, FixDNSRecord:
		return f.Key + " " + f.Value
	case FixFile:
		return f.Key
	}
	return f.Value
}

// IsDowngrade reports whether the fix gives something up.
func (f Fix) IsDowngrade() bool { return f.Downgrade != "" }

// Comment is what a tool prints beside the fix: the note, what a downgrade gives up, who
// must make a receiving side's change and where a table fix goes ("" when there is
// nothing to say).
func (f Fix) Comment() string {
	var parts []string
	if f.Note != "" {
		parts = append(parts, f.Note)
	}
	if f.Kind == FixTableRow && f.Table != "" && !f.Delete {
		if f.Old != "" {
			parts = append(parts, "replaces "+f.Key+" "+f.Old+" in "+f.Table)
		} else {
			parts = append(parts, "in "+f.Table)
		}
	}
	for _, r := range f.Requires {
		parts = append(parts, "together with "+string(r.Kind)+" "+r.String())
	}
	if f.Downgrade != "" {
		parts = append(parts, "DOWNGRADE: "+f.Downgrade)
	}
	if f.ReceiverSide {
		parts = append(parts, "the receiving side must make this change")
	}
	return strings.Join(parts, "; ")
}
