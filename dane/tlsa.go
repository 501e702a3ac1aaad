package dane

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// TLSA certificate usages (RFC 6698 §2.1.1, RFC 7218 acronyms).
const (
	UsagePKIXTA uint8 = 0 // PKIX-TA(0): not used for SMTP, dropped by Postfix
	UsagePKIXEE uint8 = 1 // PKIX-EE(1): not used for SMTP, dropped by Postfix
	UsageDANETA uint8 = 2 // DANE-TA(2): trust anchor, names checked
	UsageDANEEE uint8 = 3 // DANE-EE(3): the server's own certificate or key, no name or date checks
)

// TLSA selectors.
const (
	SelectorCert uint8 = 0 // Cert(0): the full DER certificate
	SelectorSPKI uint8 = 1 // SPKI(1): the DER SubjectPublicKeyInfo
)

// TLSA matching types.
const (
	MatchFull    uint8 = 0   // Full(0): the selected data itself
	MatchSHA256  uint8 = 1   // SHA2-256(1)
	MatchSHA512  uint8 = 2   // SHA2-512(2)
	MatchPrivate uint8 = 255 // PrivMatch(255): reserved by Postfix for the fingerprint level
)

// Record is one TLSA record: the three parameter octets and the association data, which may be
// empty or of any length (usability is judged later, as Postfix does).
type Record struct {
	Usage        uint8  // certificate usage: 0-3 (only 2 and 3 count for SMTP)
	Selector     uint8  // 0 full certificate, 1 SubjectPublicKeyInfo
	MatchingType uint8  // 0 full data, 1 SHA-256, 2 SHA-512
	Data         []byte // certificate association data
}

// String renders the record in presentation form with lower-case hex, e.g. "3 1 1 ab12...".
func (r Record) String() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, hex.EncodeToString(r.Data))
}

// PostfixString renders the record the way Postfix's tlsa_carp/tlsa_info log it: upper-case
// hex, data over 64 bytes shortened to the first 32 bytes, "...", the last 32 bytes, and "..."
// for empty data.
func (r Record) PostfixString() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, postfixHex(r.Data))
}

func postfixHex(b []byte) string {
	const head, tail = 32, 32
	switch {
	case len(b) > head+tail:
		return strings.ToUpper(hex.EncodeToString(b[:head])) + "..." +
			strings.ToUpper(hex.EncodeToString(b[len(b)-tail:]))
	case len(b) > 0:
		return strings.ToUpper(hex.EncodeToString(b))
	}
	return "..."
}

// ErrMalformedRecord is wrapped by every TLSA parse error.
var ErrMalformedRecord = errors.New("malformed TLSA record")

// ParseError describes why a TLSA record could not be read.
type ParseError struct {
	Input  string // the offending text (shortened), or "" for wire data
	Reason string
}

// Error says what could not be parsed and why.
func (e *ParseError) Error() string {
	if e.Input == "" {
		return "malformed TLSA record: " + e.Reason
	}
	return fmt.Sprintf("malformed TLSA record %q: %s", e.Input, e.Reason)
}

// Unwrap returns ErrMalformedRecord.
func (e *ParseError) Unwrap() error { return ErrMalformedRecord }

func shorten(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// colonHex is association data written as colon-separated hex pairs ("B3:E7:...").
var colonHex = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$`)

// ParseRecord reads one TLSA record from zone-file text. It accepts either the bare RDATA
// ("3 1 1 ABCD ef01") or a whole resource record ("_25._tcp.mx.example.com. 300 IN TLSA 3 1 1
// ..."): everything up to and including the "TLSA" type token is skipped. The hex data may use
// either case and may be split by white space; a parenthesised multi-line form is accepted, as
// is a trailing ";" comment, and so is data written as colon-separated hex pairs
// ("B3:E7:...", as posttls-finger and openssl print digests). Each of the three numeric
// fields must be a decimal 0-255.
func ParseRecord(text string) (Record, error) {
	s := text
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	s = strings.NewReplacer("(", " ", ")", " ").Replace(s)
	fields := strings.Fields(s)
	// The last "TLSA" token is the type (hex data never spells it; an owner name may).
	for i := len(fields) - 1; i >= 0; i-- {
		if strings.EqualFold(fields[i], "TLSA") {
			fields = fields[i+1:]
			break
		}
	}
	if len(fields) < 3 {
		return Record{}, &ParseError{Input: shorten(text), Reason: "need usage, selector and matching type"}
	}
	var p [3]uint8
	names := [3]string{"certificate usage", "selector", "matching type"}
	for i := 0; i < 3; i++ {
		n, err := strconv.ParseUint(fields[i], 10, 8)
		if err != nil {
			return Record{}, &ParseError{Input: shorten(text), Reason: fmt.Sprintf("%s %q is not a number 0-255", names[i], fields[i])}
		}
		p[i] = uint8(n)
	}
	h := strings.Join(fields[3:], "")
	if h == "-" {
		h = ""
	}
	if colonHex.MatchString(h) {
		// posttls-finger and many tools print the data as colon-separated hex pairs.
		h = strings.ReplaceAll(h, ":", "")
	}
	data, err := hex.DecodeString(h)
	if err != nil {
		return Record{}, &ParseError{Input: shorten(text), Reason: "association data is not hexadecimal: " + err.Error()}
	}
	return Record{Usage: p[0], Selector: p[1], MatchingType: p[2], Data: data}, nil
}

// ParseRecords reads several records, one per non-empty, non-comment line. Errors carry the
// 1-based line number; parsing continues past bad lines and all errors are returned joined.
func ParseRecords(text string) ([]Record, error) {
	var out []Record
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == ';' || t[0] == '#' {
			continue
		}
		r, err := ParseRecord(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// RecordFromWire reads TLSA RDATA in wire form (usage, selector, matching type, data). Fewer
// than three octets is an error; exactly three octets give a record with empty data, which
// Postfix later drops as truncated.
func RecordFromWire(rdata []byte) (Record, error) {
	if len(rdata) < 3 {
		return Record{}, &ParseError{Reason: fmt.Sprintf("RDATA length %d is shorter than 3", len(rdata))}
	}
	return Record{Usage: rdata[0], Selector: rdata[1], MatchingType: rdata[2],
		Data: append([]byte(nil), rdata[3:]...)}, nil
}

// Wire returns the record's RDATA in wire form.
func (r Record) Wire() []byte {
	out := make([]byte, 0, 3+len(r.Data))
	out = append(out, r.Usage, r.Selector, r.MatchingType)
	return append(out, r.Data...)
}

// RecordFromRR converts a miekg/dns TLSA RR. miekg/dns keeps the data as a hex string (and its
// own TLSA.Verify compares that text case-sensitively); here it is decoded, so case does not
// matter.
func RecordFromRR(rr *dns.TLSA) (Record, error) {
	if rr == nil {
		return Record{}, &ParseError{Reason: "nil TLSA RR"}
	}
	data, err := hex.DecodeString(strings.Join(strings.Fields(rr.Certificate), ""))
	if err != nil {
		return Record{}, &ParseError{Input: shorten(rr.Certificate), Reason: "association data is not hexadecimal: " + err.Error()}
	}
	return Record{Usage: rr.Usage, Selector: rr.Selector, MatchingType: rr.MatchingType, Data: data}, nil
}

// RR returns the record as a miekg/dns TLSA RR owned by name, with lower-case hex data.
func (r Record) RR(name string, ttl uint32) *dns.TLSA {
	return &dns.TLSA{
		Hdr:   dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTLSA, Class: dns.ClassINET, Ttl: ttl},
		Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType,
		Certificate: hex.EncodeToString(r.Data),
	}
}

// QueryName returns the TLSA query name "_<port>._tcp.<host>." for a host and TCP port.
func QueryName(host string, port int) string {
	return fmt.Sprintf("_%d._tcp.%s", port, dns.Fqdn(host))
}
