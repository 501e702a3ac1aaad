// Package reply reads SMTP server replies exactly as Postfix's SMTP client does
// (smtp_chat_resp() in src/smtp/smtp_chat.c) and holds the one Reply type of this module: the
// wire reader of package smtpclient and the observations judged by package policy/verdict
// both use it.
//
// # How Postfix reads a reply
//
// A line ends at LF; trailing CRs are removed. A line longer than line_length_limit (2048)
// keeps its first 2048 bytes, the rest up to the LF is skipped, and Postfix warns "response
// longer than 2048". A line that starts with three digits and "-" continues the reply; three
// digits followed by a space or the end of the line end it; any other line is garbage that
// Postfix stores and skips. The stored text stops growing at line_length_limit bytes
// ("multi-line response longer than 2048"). Bytes that are not printable become "?"
// (printable() with SMTPUTF8 on), and the text ends at a NUL.
//
// The enhanced status code (RFC 3463) Postfix reports is the server's own "X.Y.Z" after the
// code of the final line when it is valid (dsn_valid()) and its class matches the reply's,
// else "X.0.0" from the reply class, and "5.5.0" for reply classes other than 2, 4 and 5.
package reply

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// DefaultLineLimit is Postfix's line_length_limit default (2048): the longest reply line it
// stores, and also the most multi-line reply text it keeps.
const DefaultLineLimit = 2048

// DefaultMaxReplyBytes is this package's own cap on the bytes one reply may take on the wire
// (Postfix has none: it reads an endless multi-line reply for as long as each line arrives
// within the timeout).
const DefaultMaxReplyBytes = 64 << 10

// Reply is one SMTP server reply, parsed the way Postfix's smtp_chat_resp() parses it.
type Reply struct {
	// Code is the three-digit code of the last line (0 when the reply had no valid last line).
	Code int `json:"code"`
	// DSN is the enhanced status code Postfix derives: the server's own "X.Y.Z" from the last
	// line when its class matches the reply class, else "X.0.0" from the reply class; "5.5.0"
	// for other reply classes (Postfix's protocol-error default).
	DSN string `json:"dsn"`
	// Lines are the reply lines as Postfix stores them: non-printable bytes replaced by "?",
	// at most LineLimit bytes per line, and no more lines once the stored text reached
	// LineLimit bytes. Lines that are not "ddd-" or "ddd " (garbage) are included, as Postfix
	// includes them.
	Lines []string `json:"lines"`
	// Garbage counts lines that were neither a continuation nor a final reply line.
	Garbage int `json:"garbage,omitempty"`
	// LongLines counts lines longer than the line limit (truncated; Postfix warns
	// "response longer than N").
	LongLines int `json:"long_lines,omitempty"`
	// Skipped counts lines not stored because the stored text had reached the limit (Postfix
	// warns "multi-line response longer than N").
	Skipped int `json:"skipped,omitempty"`
	// Text is the reply with newlines turned into spaces, as Postfix quotes a server reply
	// in a reason such as "refused to start TLS: <reply>" (set once the reply is complete).
	Text string `json:"text"`
	// WireBytes is how many bytes the reply took on the wire, line ends included.
	WireBytes int `json:"wire_bytes"`
}

// Stored is the stored reply text with the lines joined by newlines (Postfix's resp->str).
func (r *Reply) Stored() string { return strings.Join(r.Lines, "\n") }

// OneLine is the reply text with newlines turned into spaces, as Postfix quotes a server reply
// in a reason such as "refused to start TLS: <reply>".
func (r *Reply) OneLine() string { return strings.Join(r.Lines, " ") }

// Class is the reply class: 2, 3, 4 or 5 (Code/100), 0 for no valid reply.
func (r *Reply) Class() int { return r.Code / 100 }

// Positive reports a 2xx reply.
func (r *Reply) Positive() bool { return r.Code/100 == 2 }

// String is the reply as Postfix quotes it in a reason ("454 4.7.0 TLS not available"):
// Text, or the stored lines joined by spaces while Text is not set.
func (r *Reply) String() string {
	if r.Text != "" {
		return r.Text
	}
	return r.OneLine()
}

// ErrTooLarge is returned when a reply exceeds the reader's byte cap.
var ErrTooLarge = errors.New("smtpclient: server reply exceeds the size limit")

// Reader reads SMTP replies from a buffered stream with Postfix's limits.
type Reader struct {
	rd        *bufio.Reader
	lineLimit int
	maxBytes  int
	// warn receives Postfix warning texts (without the "host[addr]:port: " prefix).
	warn func(string)
	// line is read into this buffer; reused between replies.
	buf []byte
}

// NewReader reads replies from rd. lineLimit is line_length_limit (0: DefaultLineLimit),
// maxBytes the most wire bytes one reply may take (0: DefaultMaxReplyBytes); warn, when not
// nil, receives Postfix's warning texts (without the "host[addr]:port: " prefix).
func NewReader(rd *bufio.Reader, lineLimit, maxBytes int, warn func(string)) *Reader {
	if lineLimit <= 0 {
		lineLimit = DefaultLineLimit
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxReplyBytes
	}
	if warn == nil {
		warn = func(string) {}
	}
	return &Reader{rd: rd, lineLimit: lineLimit, maxBytes: maxBytes, warn: warn}
}

// readLine reads one line the way Postfix's smtp_get(..., SMTP_GET_FLAG_SKIP) does: the
// terminator is LF, trailing CRs are removed, and a line longer than the limit keeps its first
// lineLimit bytes while the rest up to the LF is skipped. It returns the raw stored bytes, the
// wire length and whether the line was too long. budget is the number of wire bytes still
// allowed for the reply.
func (r *Reader) readLine(budget int) (line []byte, wire int, long bool, err error) {
	r.buf = r.buf[:0]
	for {
		b, err := r.rd.ReadByte()
		if err != nil {
			return nil, wire, long, err
		}
		wire++
		if wire > budget {
			return nil, wire, long, ErrTooLarge
		}
		if b == '\n' {
			break
		}
		if len(r.buf) < r.lineLimit {
			r.buf = append(r.buf, b)
		} else {
			long = true
		}
	}
	// Postfix reads at most lineLimit bytes including the LF; a CR at the boundary that is
	// followed by LF is repaired into a normal line end.
	if long || (len(r.buf) == r.lineLimit && r.buf[len(r.buf)-1] != '\r') {
		return r.buf, wire, true, nil
	}
	for len(r.buf) > 0 && r.buf[len(r.buf)-1] == '\r' {
		r.buf = r.buf[:len(r.buf)-1]
	}
	return r.buf, wire, false, nil
}

// Read reads one complete reply (all continuation lines and the final line). On an error
// the reply read so far is returned with it.
func (r *Reader) Read() (*Reply, error) {
	rep := &Reply{DSN: "5.5.0"}
	stored := 0 // Postfix's LEN(rdata.str_buf)
	for {
		raw, wire, long, err := r.readLine(r.maxBytes - rep.WireBytes)
		rep.WireBytes += wire
		if err != nil {
			return rep, err
		}
		line := pfutil.Printable(pfutil.CStr(string(raw)), true)
		if long {
			rep.LongLines++
			r.warn(fmt.Sprintf("response longer than %d: %s...", r.lineLimit, prefix30(line)))
		}
		if stored < r.lineLimit {
			// Postfix adds a newline only after non-empty stored text, so leading empty
			// lines vanish from the stored text.
			if stored > 0 {
				stored++
			}
			if stored > 0 || line != "" {
				rep.Lines = append(rep.Lines, line)
			}
			stored += len(line)
		} else {
			if rep.Skipped == 0 {
				r.warn(fmt.Sprintf("multi-line response longer than %d %s...", r.lineLimit,
					prefix30(strings.Join(rep.Lines, "\n"))))
			}
			rep.Skipped++
		}
		digits := 0
		for digits < len(line) && line[digits] >= '0' && line[digits] <= '9' {
			digits++
		}
		if digits == 3 {
			if len(line) > 3 && line[3] == '-' {
				continue
			}
			if len(line) == 3 || line[3] == ' ' {
				rep.Code, rep.DSN = codeAndDSN(line)
				rep.Text = rep.OneLine()
				return rep, nil
			}
		}
		rep.Garbage++
	}
}

// codeAndDSN extracts the reply code and enhanced status code from a final reply line
// (smtp_chat_resp, Postfix 3.12 form: the DSN may follow the code after any number of spaces).
func codeAndDSN(line string) (int, string) {
	code, _ := strconv.Atoi(line[:3])
	dsn := "5.5.0"
	if c := line[0]; c == '2' || c == '4' || c == '5' {
		rest := strings.TrimLeft(line[3:], " ")
		if n := dsnValid(rest); n > 0 && rest[0] == c {
			dsn = rest[:n]
		} else {
			dsn = string(c) + ".0.0"
		}
	}
	return code, dsn
}

// dsnValid returns the length of a valid enhanced status code at the start of s (Postfix's
// dsn_valid): class 2, 4 or 5, a dot, 1-3 digits, a dot, 1-3 digits, then the end of the text
// or white space. It returns 0 when s does not start with one.
func dsnValid(s string) int {
	if len(s) < 2 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return 0
	}
	i := 2
	n := countDigits(s[i:])
	if n < 1 || n > 3 || i+n >= len(s) || s[i+n] != '.' {
		return 0
	}
	i += n + 1
	n = countDigits(s[i:])
	if n < 1 || n > 3 {
		return 0
	}
	i += n
	if i < len(s) && !isSpace(s[i]) {
		return 0
	}
	return i
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// prefix30 is C's "%.30s": at most 30 bytes.
func prefix30(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}

// Parse parses a complete reply given as text (CRLF or LF line ends) with Postfix's rules and
// the default limits. It is the offline counterpart of what smtpclient.Probe does on the
// wire, useful for replies taken from logs, transcripts or an observation. The text must end
// with a final reply line; otherwise the error says why. The warnings are Postfix's.
func Parse(text string) (*Reply, []string, error) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	var warnings []string
	rr := NewReader(bufio.NewReader(strings.NewReader(text)), DefaultLineLimit,
		DefaultMaxReplyBytes, func(w string) { warnings = append(warnings, w) })
	rep, err := rr.Read()
	if err != nil {
		return rep, warnings, fmt.Errorf("smtpclient: incomplete reply: %w", err)
	}
	return rep, warnings, nil
}

// EHLOInfo is what Postfix takes from an EHLO reply.
type EHLOInfo struct {
	// Name is the first word of the first line (the server's name).
	Name string `json:"name"`
	// Keywords are the EHLO keywords of the other lines, upper-cased, in order.
	Keywords []string `json:"keywords"`
	// STARTTLS reports that STARTTLS was listed (and not discarded).
	STARTTLS bool `json:"starttls"`
}

// ParseEHLO extracts the server name and keywords from an EHLO reply's stored text exactly as
// Postfix's smtp_helo() does: per line, the first token up to "-" or " " (the code) is
// skipped, the next token up to " ", tab or "=" is the keyword; the first line carries the
// server name, not a keyword (so a one-line "250 STARTTLS" reply offers nothing). Keywords
// listed in discard (smtp_discard_ehlo_keywords, case-insensitive) are ignored.
func ParseEHLO(r *Reply, discard []string) EHLOInfo {
	var info EHLOInfo
	n := 0
	for _, line := range r.Lines {
		rest := line
		if _, ok := pfutil.Strtok(&rest, "- "); !ok {
			continue
		}
		word, ok := pfutil.Strtok(&rest, " \t=")
		if !ok {
			continue
		}
		if n == 0 {
			info.Name = word
		} else {
			kw := strings.ToUpper(word)
			dropped := false
			for _, d := range discard {
				if strings.EqualFold(d, kw) {
					dropped = true
				}
			}
			if !dropped {
				info.Keywords = append(info.Keywords, kw)
				if kw == "STARTTLS" {
					info.STARTTLS = true
				}
			}
		}
		n++
	}
	return info
}
