package maillog

import (
	"encoding/binary"
	"time"
	"unsafe"

	"github.com/postfixtls/postfixtls/policy/verdict"
)

// packed is a Delivery, its attempts included, encoded in one buffer that holds no
// pointers. The Collector keeps up to MaxDestinations deliveries for the whole read, and
// the garbage collector traces every pointer of what is kept on each of its cycles: kept
// as packed buffers, they cost it nothing (and take about half the memory). A packed
// buffer is never changed once written, so unpack's strings point into it instead of
// being copied.
type packed []byte

// pack encodes d. The order of the fields is unpack's; TestPackRoundTrip fills every
// field of Delivery (by reflection) and fails when one is left out.
func pack(scratch []byte, d *Delivery) (packed, []byte) {
	b := scratch[:0]
	for _, s := range [...]string{d.QueueID, d.Recipient, d.OrigRecipient, d.Domain, d.Relay, d.Delay,
		d.Delays, d.TLSFeature, d.DSN, d.Status, d.Reason, d.Logged, d.Host, d.Program} {
		b = appendStr(b, s)
	}
	b = appendTime(b, d.Time)
	b = binary.AppendVarint(b, int64(d.PID))
	b = binary.AppendVarint(b, d.Seq)
	b = appendStrs(b, d.Warnings)
	b = binary.AppendUvarint(b, uint64(len(d.Attempts)))
	for i := range d.Attempts {
		b = packAttempt(b, &d.Attempts[i])
	}
	return packed(append([]byte(nil), b...)), b
}

func packAttempt(b []byte, a *Attempt) []byte {
	for _, s := range [...]string{a.Server, a.Host, a.Addr, a.Logged, a.SNI, a.SubjectCN, a.IssuerCN,
		a.CertFingerprint, a.PKeyFingerprint, a.HandshakeError, a.ConnectError, a.Reason} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, int64(a.Port))
	b = binary.AppendVarint(b, int64(a.PID))
	b = binary.AppendVarint(b, int64(a.Lines))
	b = appendTime(b, a.Time)
	b = appendBool(b, a.ReusedUntrusted)
	b = appendBool(b, a.Final)
	b = appendBool(b, a.TLS != nil)
	if t := a.TLS; t != nil {
		b = appendStr(b, string(t.Trust))
		b = appendBool(b, t.Reused)
		b = appendStr(b, t.Protocol)
		b = appendStr(b, t.Cipher)
		b = binary.AppendVarint(b, int64(t.Bits))
		b = binary.AppendVarint(b, int64(t.AlgBits))
		b = appendStr(b, t.Details)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Verify)))
	for _, v := range a.Verify {
		b = appendStr(b, v.Purpose)
		b = binary.AppendVarint(b, int64(v.Num))
		b = appendStr(b, v.Text)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Names)))
	for _, n := range a.Names {
		b = appendStr(b, n.Kind)
		b = appendStr(b, n.Name)
		b = appendBool(b, n.Matched)
	}
	b = appendStrs(b, a.Subjects)
	b = appendStrs(b, a.DANE)
	b = appendStrs(b, a.Library)
	return b
}

// unpack decodes p (nil: the zero Delivery).
func (p packed) unpack() Delivery {
	var d Delivery
	if len(p) == 0 {
		return d
	}
	r := unpacker{b: p}
	for _, s := range [...]*string{&d.QueueID, &d.Recipient, &d.OrigRecipient, &d.Domain, &d.Relay, &d.Delay,
		&d.Delays, &d.TLSFeature, &d.DSN, &d.Status, &d.Reason, &d.Logged, &d.Host, &d.Program} {
		*s = r.str()
	}
	d.Time = r.time()
	d.PID = int(r.int())
	d.Seq = r.int()
	d.Warnings = r.strs()
	if n := r.count(); n > 0 {
		d.Attempts = make([]Attempt, n)
		for i := range d.Attempts {
			r.attempt(&d.Attempts[i])
		}
	}
	return d
}

func (r *unpacker) attempt(a *Attempt) {
	for _, s := range [...]*string{&a.Server, &a.Host, &a.Addr, &a.Logged, &a.SNI, &a.SubjectCN, &a.IssuerCN,
		&a.CertFingerprint, &a.PKeyFingerprint, &a.HandshakeError, &a.ConnectError, &a.Reason} {
		*s = r.str()
	}
	a.Port = int(r.int())
	a.PID = int(r.int())
	a.Lines = int(r.int())
	a.Time = r.time()
	a.ReusedUntrusted = r.bool()
	a.Final = r.bool()
	if r.bool() {
		t := &TLSSummary{}
		t.Trust = verdict.TrustWord(r.str())
		t.Reused = r.bool()
		t.Protocol = r.str()
		t.Cipher = r.str()
		t.Bits = int(r.int())
		t.AlgBits = int(r.int())
		t.Details = r.str()
		a.TLS = t
	}
	if n := r.count(); n > 0 {
		a.Verify = make([]VerifyFailure, n)
		for i := range a.Verify {
			v := &a.Verify[i]
			v.Purpose = r.str()
			v.Num = verdict.X509Error(r.int())
			v.Text = r.str()
		}
	}
	if n := r.count(); n > 0 {
		a.Names = make([]PeerName, n)
		for i := range a.Names {
			pn := &a.Names[i]
			pn.Kind = r.str()
			pn.Name = r.str()
			pn.Matched = r.bool()
		}
	}
	a.Subjects = r.strs()
	a.DANE = r.strs()
	a.Library = r.strs()
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrs(b []byte, l []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, s := range l {
		b = appendStr(b, s)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendTime writes t as its instant and zone: 0 (the zero time), 1 (UTC) or 2 and the
// zone's name and offset.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	name, off := t.Zone()
	if t.Location() == time.UTC {
		b = append(b, 1)
	} else {
		b = append(b, 2)
		b = appendStr(b, name)
		b = binary.AppendVarint(b, int64(off))
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendVarint(b, int64(t.Nanosecond()))
}

// unpacker reads a packed buffer (written by pack, so never short).
type unpacker struct {
	b   []byte
	off int
}

func (r *unpacker) int() int64 {
	v, n := binary.Varint(r.b[r.off:])
	r.off += n
	return v
}

func (r *unpacker) count() int {
	v, n := binary.Uvarint(r.b[r.off:])
	r.off += n
	return int(v)
}

func (r *unpacker) str() string {
	n := r.count()
	if n == 0 {
		return ""
	}
	s := unsafe.String(&r.b[r.off], n) // the buffer is never written again
	r.off += n
	return s
}

func (r *unpacker) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	l := make([]string, n)
	for i := range l {
		l[i] = r.str()
	}
	return l
}

func (r *unpacker) bool() bool {
	v := r.b[r.off] != 0
	r.off++
	return v
}

func (r *unpacker) time() time.Time {
	kind := r.b[r.off]
	r.off++
	if kind == 0 {
		return time.Time{}
	}
	loc := time.UTC
	if kind == 2 {
		name := r.str()
		loc = time.FixedZone(name, int(r.int()))
	}
	sec := r.int()
	return time.Unix(sec, r.int()).In(loc)
}
