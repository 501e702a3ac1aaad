package finding

import (
	"fmt"
	"strconv"
	"strings"
)

// Severity says how bad a Diagnostic is, in Postfix's terms, mildest first. The zero value
// is SeverityWarning, msg_warn(), the most common message Postfix logs about its input.
type Severity int

// The severities.
const (
	// SeverityNote is advice that needs no change unless it was not meant (Postfix says
	// nothing; only this module's lint does).
	SeverityNote Severity = iota - 1
	// SeverityWarning is msg_warn(): an entry or rule was skipped or is suspicious.
	SeverityWarning
	// SeverityError is msg_error(), or what lint reports as Postfix's own complaint: a table
	// replaced by a surrogate, a rejected entry, a setting Postfix refuses.
	SeverityError
	// SeverityFatal is msg_fatal(): Postfix would exit.
	SeverityFatal
)

var severityNames = [...]string{"note", "warning", "error", "fatal"}

// String returns "note", "warning", "error" or "fatal".
func (s Severity) String() string {
	if s >= SeverityNote && s <= SeverityFatal {
		return severityNames[s-SeverityNote]
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText implements encoding.TextMarshaler: the JSON form is the String.
func (s Severity) MarshalText() ([]byte, error) {
	if s < SeverityNote || s > SeverityFatal {
		return nil, fmt.Errorf("finding: invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i) + SeverityNote
			return nil
		}
	}
	return fmt.Errorf("finding: unknown severity %q", b)
}

// Diagnostic is one message about the configuration, located in its file: what Postfix
// would log while reading main.cf, master.cf or a lookup table (in Postfix's words), or
// what lint says about it. Package policy/maincf, policy/tables and policy/lint all report
// this shape.
type Diagnostic struct {
	// File is the file the problem is in ("" for a setting from no file, such as a built-in
	// default or a command-line override).
	File string `json:"file"`
	// Line is the first physical line of the logical line; 0 when not tied to a line.
	Line int `json:"line"`
	// Severity says how bad it is.
	Severity Severity `json:"severity"`
	// Code names the rule (stable; programs may key on it); empty when the reader has none.
	Code Code `json:"code"`
	// Message is Postfix's own text (without the "warning: " prefix), or lint's advice.
	Message string `json:"message"`
	// Located is set when Message itself already names File and Line, as Postfix's
	// "FILE, line N: …" messages do.
	Located bool `json:"-"`
}

// String renders the diagnostic as Postfix logs it, "warning: MESSAGE", followed by the
// position as Text adds it.
func (d Diagnostic) String() string { return d.Severity.String() + ": " + d.Text() }

// Text is the message followed by the position " (FILE:LINE)" when the message does not
// name it itself (Located, or Postfix's "FILE, line N: …" form).
func (d Diagnostic) Text() string {
	if d.Located || d.File == "" || d.Line <= 0 {
		return d.Message
	}
	line := strconv.Itoa(d.Line)
	if strings.Contains(d.Message, d.File+", line "+line) || strings.Contains(d.Message, d.File+":"+line) {
		return d.Message
	}
	return d.Message + " (" + d.File + ":" + line + ")"
}
