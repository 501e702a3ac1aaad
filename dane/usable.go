package dane

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
)

// Status says what Postfix does with one TLSA record.
type Status int

// The record statuses. The "dropped" statuses apply when the RRset is read (policy time, so
// they count for §6.1 item 9 "TLSA records unusable"); StatusUnusable is decided at handshake
// time (Postfix >= 3.6, when OpenSSL refuses the record).
const (
	StatusUsable Status = iota
	StatusTruncated
	StatusUnsupportedUsage
	StatusPrivateMatchingType
	StatusUnusable
	StatusMalformed      // Postfix <= 3.5 parse-time drop (selector, matching type, length, data)
	StatusAgilityDropped // Postfix <= 3.5: a less preferred digest for the same usage+selector
)

var statusNames = [...]string{"usable", "truncated", "unsupported usage", "private-use matching type",
	"unusable", "malformed", "dropped by digest agility"}

// String names the status.
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Options carry the Postfix behaviour the caller emulates. The zero value means Postfix >= 3.6
// with the default tls_dane_digests.
type Options struct {
	// PreOpenSSLDANE selects Postfix 2.11-3.5 behaviour: Postfix checked selectors, matching
	// types, digest lengths and full certificates/keys itself when the RRset was read, so bad
	// records were dropped at policy time and could make the set "unusable".
	PreOpenSSLDANE bool
	// Digests is the parsed tls_dane_digests; nil means DefaultDigests.
	Digests *Digests
	// NamAddrPort is "host[addr]:port", used in handshake-time warnings.
	NamAddrPort string
}

func (o *Options) digests() *Digests {
	if o.Digests != nil {
		return o.Digests
	}
	return defaultDigests()
}

// defaultDigests parses DefaultDigests; it is cheap and keeps the package free of mutable state.
func defaultDigests() *Digests { return ParseDigests(DefaultDigests) }

// RecordReport is the verdict on one record.
type RecordReport struct {
	Record Record
	Status Status
	// Reason explains a non-usable status in plain words.
	Reason string
	// Warning is the line Postfix logs for this record (without "warning: "), or "".
	Warning string

	cert *x509.Certificate // parsed full certificate (selector 0, matching type 0)
	pkey crypto.PublicKey  // parsed full key (selector 1, matching type 0)
}

// RecordSet is a TLSA RRset as Postfix sees it after reading it from DNS (or a trust-anchor
// file), with a report per record.
type RecordSet struct {
	// QName is the name queried and RName the owner of the records (they differ when the TLSA
	// name is a CNAME). Used in warnings.
	QName, RName string
	Reports      []RecordReport
	opts         Options
	digests      *Digests
}

// Classify judges each record as Postfix does when reading a validated TLSA RRset (parse_tlsa_rr
// in tls_dane.c) and, for Postfix >= 3.6, as OpenSSL does when the records are loaded for the
// handshake (SSL_dane_tlsa_add). qname and rname name the RRset for warnings.
func Classify(records []Record, qname, rname string, opts Options) *RecordSet {
	s := &RecordSet{QName: strings.TrimSuffix(qname, "."), RName: strings.TrimSuffix(rname, "."), opts: opts, digests: opts.digests()}
	if opts.PreOpenSSLDANE {
		s.classify35(records)
		return s
	}
	// Postfix's names carry no trailing dot (dn_expand output and its own query names).
	qname, rname = strings.TrimSuffix(qname, "."), strings.TrimSuffix(rname, ".")
	s.QName, s.RName = qname, rname
	prefix := rname
	if qname != "" && !strings.EqualFold(qname, rname) {
		prefix = qname + " -> " + rname
	}
	for _, r := range records {
		rep := RecordReport{Record: r}
		switch {
		case len(r.Data) == 0:
			rep.Status, rep.Reason = StatusTruncated, "no association data"
			rep.Warning = fmt.Sprintf("%s: truncated TLSA RR length == %d", prefix, 3+len(r.Data))
		case r.Usage != UsageDANETA && r.Usage != UsageDANEEE:
			rep.Status, rep.Reason = StatusUnsupportedUsage, fmt.Sprintf("certificate usage %d is not DANE-TA(2) or DANE-EE(3)", r.Usage)
			rep.Warning = fmt.Sprintf("%s unsupported TLSA certificate usage: %s", prefix, r.PostfixString())
		case r.MatchingType == MatchPrivate:
			rep.Status, rep.Reason = StatusPrivateMatchingType, "matching type 255 is reserved for the fingerprint level"
			rep.Warning = fmt.Sprintf("%s reserved private-use matching type: %s", prefix, r.PostfixString())
		default:
			s.opensslCheck(&rep)
		}
		s.Reports = append(s.Reports, rep)
	}
	return s
}

// opensslCheck applies SSL_dane_tlsa_add's checks to a record that survived Postfix's filter.
func (s *RecordSet) opensslCheck(rep *RecordReport) {
	r := rep.Record
	reason := ""
	switch {
	case r.Selector > SelectorSPKI:
		reason = fmt.Sprintf("selector %d is not Cert(0) or SPKI(1)", r.Selector)
	case r.MatchingType != MatchFull && !s.digests.Enabled(r.MatchingType):
		reason = fmt.Sprintf("matching type %d is not enabled in tls_dane_digests", r.MatchingType)
	case r.MatchingType != MatchFull && len(r.Data) != digestLen(r.MatchingType):
		reason = fmt.Sprintf("digest length %d, matching type %d needs %d", len(r.Data), r.MatchingType, digestLen(r.MatchingType))
	case r.MatchingType == MatchFull:
		reason = parseFull(rep)
	}
	if reason == "" {
		rep.Status = StatusUsable
		return
	}
	rep.Status, rep.Reason = StatusUnusable, reason
	rep.Warning = fmt.Sprintf("%s: unusable TLSA RR: %s", s.opts.NamAddrPort, r.PostfixString())
}

// parseFull decodes the data of a matching-type-0 record; it returns "" or the reason.
func parseFull(rep *RecordReport) string {
	r := rep.Record
	if r.Selector == SelectorCert {
		c, err := x509.ParseCertificate(r.Data)
		if err != nil {
			return "full certificate does not parse: " + err.Error()
		}
		if c.PublicKey == nil {
			return "full certificate has an unsupported public key"
		}
		rep.cert = c
		return ""
	}
	k, err := x509.ParsePKIXPublicKey(r.Data)
	if err != nil {
		return "full public key does not parse: " + err.Error()
	}
	rep.pkey = k
	return ""
}

// classify35 is Postfix 2.11-3.5's parse_tlsa_rr with its sorted RRset and digest agility.
func (s *RecordSet) classify35(records []Record) {
	d := s.digests
	q, a, r := "", "", s.RName
	if s.QName != "" && !strings.EqualFold(s.QName, s.RName) {
		q, a = s.QName, " -> "
	}
	sorted := append([]Record(nil), records...)
	sort.SliceStable(sorted, func(i, j int) bool {
		x, y := sorted[i], sorted[j]
		if x.Usage != y.Usage {
			return x.Usage < y.Usage
		}
		if x.Selector != y.Selector {
			return x.Selector < y.Selector
		}
		if px, py := d.pref35(x.MatchingType), d.pref35(y.MatchingType); px != py {
			return px < py
		}
		if len(x.Data) != len(y.Data) {
			return len(x.Data) < len(y.Data)
		}
		return string(x.Data) < string(y.Data)
	})
	count := 0
	for i, rec := range sorted {
		rep := RecordReport{Record: rec}
		var next *Record
		if i+1 < len(sorted) {
			next = &sorted[i+1]
		}
		usChange := next == nil || next.Usage != rec.Usage || next.Selector != rec.Selector
		mChange := next == nil || next.MatchingType != rec.MatchingType
		tail := fmt.Sprintf("%s%s%s IN TLSA %d %d %d ...", q, a, r, rec.Usage, rec.Selector, rec.MatchingType)
		switch {
		case rec.MatchingType != MatchFull && count > 0:
			if usChange {
				count = 0
			}
			rep.Status, rep.Reason = StatusAgilityDropped, "a more preferred digest exists for this usage and selector"
		case rec.Usage != UsageDANETA && rec.Usage != UsageDANEEE:
			rep.Status, rep.Reason = StatusUnsupportedUsage, fmt.Sprintf("certificate usage %d is not DANE-TA(2) or DANE-EE(3)", rec.Usage)
			rep.Warning = fmt.Sprintf("unsupported certificate usage %d in RR: %s%s%s IN TLSA %d ...", rec.Usage, q, a, r, rec.Usage)
		case rec.Selector > SelectorSPKI:
			rep.Status, rep.Reason = StatusMalformed, fmt.Sprintf("selector %d is not Cert(0) or SPKI(1)", rec.Selector)
			rep.Warning = fmt.Sprintf("unsupported selector %d in RR: %s%s%s IN TLSA %d %d ...", rec.Selector, q, a, r, rec.Usage, rec.Selector)
		case rec.MatchingType != MatchFull && !d.Enabled(rec.MatchingType):
			rep.Status, rep.Reason = StatusMalformed, fmt.Sprintf("matching type %d is not in tls_dane_digests", rec.MatchingType)
			rep.Warning = fmt.Sprintf("unsupported matching type %d in RR: %s", rec.MatchingType, tail)
		case rec.MatchingType != MatchFull && len(rec.Data) != digestLen(rec.MatchingType):
			name := map[uint8]string{MatchSHA256: "sha256", MatchSHA512: "sha512"}[rec.MatchingType]
			rep.Status, rep.Reason = StatusMalformed, fmt.Sprintf("digest length %d, %s needs %d", len(rec.Data), name, digestLen(rec.MatchingType))
			rep.Warning = fmt.Sprintf("malformed %s digest, length %d, in RR: %s", name, len(rec.Data), tail)
		case rec.MatchingType != MatchFull:
			rep.Status = StatusUsable
			if mChange && !usChange {
				count++
			}
		default:
			if why := parseFull(&rep); why != "" {
				what := "public key"
				if rec.Selector == SelectorCert {
					what = "certificate"
					if strings.Contains(why, "unsupported public key") {
						what = "or unsupported certificate public key"
					}
				}
				rep.Status, rep.Reason = StatusMalformed, why
				rep.Warning = fmt.Sprintf("malformed %s in RR: %s", what, tail)
			} else {
				rep.Status = StatusUsable
			}
		}
		s.Reports = append(s.Reports, rep)
	}
}

// Usable returns the records that verification will use.
func (s *RecordSet) Usable() []Record {
	var out []Record
	for _, r := range s.Reports {
		if r.Status == StatusUsable {
			out = append(out, r.Record)
		}
	}
	return out
}

// Found reports whether the set had any record at all.
func (s *RecordSet) Found() bool { return s != nil && len(s.Reports) > 0 }

// UnusableAtLookup reports §6.1 item 9: records exist but none survived the lookup-time filter
// (usage 2 or 3, not matching type 255, not truncated; with PreOpenSSLDANE also the parse-time
// checks). Postfix's reason is "TLSA records unusable".
func (s *RecordSet) UnusableAtLookup() bool {
	if !s.Found() {
		return false
	}
	for _, r := range s.Reports {
		switch r.Status {
		case StatusUsable, StatusUnusable:
			return false
		}
	}
	return true
}

// AllUnusable reports that records passed the lookup-time filter but OpenSSL accepted none at
// handshake time (Postfix >= 3.6): Postfix warns "<namaddrport>: all TLSA records unusable" and
// continues at encrypt (dane, halfdane) or fails verification (dane-only).
func (s *RecordSet) AllUnusable() bool {
	return s.Found() && !s.UnusableAtLookup() && len(s.Usable()) == 0
}

// Warnings returns the per-record warnings in order, plus the "all TLSA records unusable"
// warning when it applies (with the dane/halfdane wording when fallback is true).
func (s *RecordSet) Warnings(fallback bool) []string {
	var out []string
	for _, r := range s.Reports {
		if r.Warning != "" {
			out = append(out, r.Warning)
		}
	}
	if s.AllUnusable() {
		w := s.opts.NamAddrPort + ": all TLSA records unusable"
		if fallback {
			w += ", fallback to unauthenticated TLS"
		}
		out = append(out, w)
	}
	return out
}
