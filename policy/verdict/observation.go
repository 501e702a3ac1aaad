package verdict

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient/reply"
)

// Observation is what one connection attempt to one server saw, or would have seen: the
// DNS facts Postfix's decision depends on, the SMTP dialogue up to STARTTLS, and the TLS
// handshake with the peer chain exactly as sent. It is filled by a live dial (package
// smtpclient), from files (ObservationFromFiles), or field by field (for example from
// Postfix log lines). The zero value is a server that did not offer STARTTLS.
type Observation struct {
	// Host is the server's host name as Postfix uses it for the hostname match strategy: the
	// MX exchange name, or the [host] of a bracketed next hop.
	Host string `json:"host"`
	// Addr is the address connected to ("192.0.2.10", "2001:db8::1"); Port the TCP port
	// (0 means the next hop's port).
	Addr string `json:"addr,omitempty"`
	Port int    `json:"port,omitempty"`

	// HaveMX is true when Host came from an MX RRset (not a [host] next hop and not the
	// A/AAAA fallback); MXPreference is its preference and MXSecure the MX RRset's DNSSEC
	// status. MXOwner is the owner of the MX RRset when the next-hop domain is a CNAME.
	HaveMX       bool   `json:"have_mx,omitempty"`
	MXPreference int    `json:"mx_preference,omitempty"`
	MXSecure     bool   `json:"mx_secure,omitempty"`
	MXOwner      string `json:"mx_owner,omitempty"`
	// AddrSecure is the DNSSEC status of the address lookup of Host.
	AddrSecure bool `json:"addr_secure,omitempty"`
	// TLSA is the TLSA lookup for Host and Port; nil means none was made (the address was
	// not validated, or DANE was not in use).
	TLSA *TLSAObservation `json:"tlsa,omitempty"`

	// LookupError is set when the MX or address lookup failed, in Postfix's words ("Host or
	// domain name not found. Name service error for name=example.com type=MX: Host not
	// found, try again"); nothing else matters then. LookupPermanent marks a permanent
	// failure (NXDOMAIN, or no address for any MX host), which bounces; LookupDSN is its
	// DSN when it is not the usual 5.4.4 (4.4.3 when temporary): 5.1.0 for a null MX
	// (RFC 7505). LookupWarning is the warning Postfix logs before the status ("no MX host
	// for example.com has a valid address record").
	LookupError     string     `json:"lookup_error,omitempty"`
	LookupPermanent bool       `json:"lookup_permanent,omitempty"`
	LookupDSN       policy.DSN `json:"lookup_dsn,omitempty"`
	LookupWarning   string     `json:"lookup_warning,omitempty"`
	// ConnectError is set when the TCP connection (or the greeting, or EHLO) failed, as
	// Postfix's reason text: "connect to host[addr]:25: Connection refused" (DSN 4.4.1,
	// relay=none), or "lost connection with host[addr] while receiving the initial server
	// greeting" / "conversation with ... timed out while ..." (DSN 4.4.2).
	ConnectError string `json:"connect_error,omitempty"`
	// WrapperMode is a connection that starts TLS at once (SMTPS, port 465).
	WrapperMode bool `json:"wrapper_mode,omitempty"`
	// STARTTLSOffered reports whether the EHLO response listed STARTTLS.
	STARTTLSOffered bool `json:"starttls_offered"`
	// STARTTLSReply is the server's reply to STARTTLS when it was not 2xx (a refusal).
	STARTTLSReply *reply.Reply `json:"starttls_reply,omitempty"`

	// TLSVersion ("TLSv1.3") and Cipher ("TLS_AES_128_GCM_SHA256") describe the session;
	// CipherBits and CipherAlgBits are the bits Postfix's summary line shows (0: derived
	// from the cipher name).
	TLSVersion    string `json:"tls_version,omitempty"`
	Cipher        string `json:"cipher,omitempty"`
	CipherBits    int    `json:"cipher_bits,omitempty"`
	CipherAlgBits int    `json:"cipher_alg_bits,omitempty"`
	// KeyExchange ("X25519"), ServerSignature ("ECDSA (prime256v1)", "RSA-PSS (2048 bits)")
	// and ServerDigest ("SHA256") are the TLS 1.3 details Postfix 3.4+ appends to its
	// summary line; empty ones are left out.
	KeyExchange     string `json:"key_exchange,omitempty"`
	ServerSignature string `json:"server_signature,omitempty"`
	ServerDigest    string `json:"server_digest,omitempty"`
	// SNI is the server name sent in the ClientHello ("" when none).
	SNI string `json:"sni,omitempty"`
	// Chain is the peer's certificate chain as sent, leaf first. Empty after a successful
	// handshake means an anonymous (aNULL) session.
	Chain Chain `json:"chain,omitempty"`
	// HandshakeError is set when the TLS handshake failed (after STARTTLS was accepted, or
	// at once in wrapper mode).
	HandshakeError string `json:"handshake_error,omitempty"`

	// MessageAge is how long the message waited between arrival and this delivery attempt
	// (§3.3: plaintext fallback at may only once it is at least minimal_backoff_time).
	MessageAge time.Duration `json:"message_age,omitempty"`
	// AddressProbe marks an address-verification probe (exempt from the age rule since 3.8).
	AddressProbe bool `json:"address_probe,omitempty"`
	// SASL reports that a SASL password is configured for this server (then Postfix never
	// falls back to plaintext).
	SASL bool `json:"sasl,omitempty"`

	// Recipient is the mail transaction tried after the TLS part (MAIL FROM, RCPT TO, RSET;
	// never DATA). Nil means none was tried: a delivery verdict then says that the
	// recipient was not tested.
	Recipient *RecipientProbe `json:"recipient_probe,omitempty"`
}

// TLSAObservation is one TLSA lookup: where the records were found, the validated records,
// or the lookup error.
type TLSAObservation struct {
	// BaseDomain is the host name at which records were found (the TLSA base domain: SNI
	// and first DANE-TA reference name). QName is the name queried, RName the owner of the
	// records (they differ when the TLSA name is an alias).
	BaseDomain string `json:"base_domain,omitempty"`
	QName      string `json:"qname,omitempty"`
	RName      string `json:"rname,omitempty"`
	// Records are the DNSSEC-validated records, in presentation form ("3 1 1 ab12...");
	// empty means "no TLSA records found".
	Records []string `json:"records,omitempty"`
	// Error is the resolver error of a failed lookup (SERVFAIL, timeout): Postfix's
	// "TLSA lookup error" (§6.1 item 7). Empty when the lookup succeeded.
	Error string `json:"error,omitempty"`
}

// ErrObservation is wrapped by every error reading observation input (PEM chains, TLSA
// text, SMTP replies).
var ErrObservation = errors.New("invalid observation input")

// Chain is a certificate chain as a server sent it, leaf first. In JSON it is an array of
// PEM strings.
type Chain []*x509.Certificate

// MarshalJSON renders the chain as PEM strings.
func (c Chain) MarshalJSON() ([]byte, error) {
	out := make([]string, 0, len(c))
	for _, cert := range c {
		if cert == nil {
			continue
		}
		out = append(out, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads PEM strings back.
func (c *Chain) UnmarshalJSON(b []byte) error {
	var in []string
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	var out Chain
	for _, s := range in {
		certs, err := ReadPEMChain(strings.NewReader(s))
		if err != nil {
			return err
		}
		out = append(out, certs...)
	}
	*c = out
	return nil
}

// maxInput bounds what the file readers accept (a chain or TLSA file is small).
const maxInput = 4 << 20

// ReadPEMChain reads every CERTIFICATE (or X509 CERTIFICATE / TRUSTED CERTIFICATE) block of
// PEM input, in order: a chain as a server sends it (leaf first), or a CAfile. Other blocks
// are skipped. No certificate at all, or one that does not parse, is an error wrapping
// ErrObservation.
func ReadPEMChain(r io.Reader) ([]*x509.Certificate, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrObservation, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%w: PEM input larger than %d bytes", ErrObservation, maxInput)
	}
	certs, _, err := parsePEMCerts(data)
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate found in PEM input", ErrObservation)
	}
	return certs, nil
}

// parsePEMCerts returns the certificates of PEM data and the types of the skipped blocks.
func parsePEMCerts(data []byte) ([]*x509.Certificate, []string, error) {
	var certs []*x509.Certificate
	var skipped []string
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		n++
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE":
			der := block.Bytes
			if block.Type == "TRUSTED CERTIFICATE" {
				// OpenSSL's trusted form appends auxiliary trust data after the
				// certificate; keep only the certificate.
				der = firstDER(der)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: PEM block %d: %w", ErrObservation, n, err)
			}
			certs = append(certs, c)
		default:
			skipped = append(skipped, block.Type)
		}
	}
	return certs, skipped, nil
}

// firstDER returns the first DER element of b (the certificate of an OpenSSL "TRUSTED
// CERTIFICATE" block), or b when it cannot be delimited.
func firstDER(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	l := int(b[1])
	hdr := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 4 || len(b) < 2+n {
			return b
		}
		l = 0
		for _, c := range b[2 : 2+n] {
			l = l<<8 | int(c)
		}
		hdr += n
	}
	if l < 0 || hdr+l > len(b) {
		return b
	}
	return b[:hdr+l]
}

// ReadTLSA reads TLSA records from zone-file text (one record per line, bare RDATA "3 1 1
// ab12..." or whole resource records; ';' and '#' comments and blank lines are ignored).
// It returns the records in presentation form for TLSAObservation.Records. Every line
// that cannot be read is reported, with its line number, in the joined error; the good
// records are returned alongside.
func ReadTLSA(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxInput))
	sc.Buffer(make([]byte, 64*1024), maxInput)
	var out []string
	var errs []error
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == ';' || t[0] == '#' {
			continue
		}
		rec, err := dane.ParseRecord(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: line %d: %w", ErrObservation, line, err))
			continue
		}
		out = append(out, rec.String())
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrObservation, err))
	}
	return out, errors.Join(errs...)
}

// ObservationFiles are the offline inputs of ObservationFromFiles. Every reader may be nil.
type ObservationFiles struct {
	// Host, Addr and Port name the server.
	Host string
	Addr string
	Port int
	// Chain is the server's chain as sent, PEM, leaf first.
	Chain io.Reader
	// TLSA is the host's TLSA RRset as zone-file text; nil means no TLSA lookup. The records
	// count as DNSSEC-validated, and so do the MX and address lookups (set the
	// Observation's flags afterwards to model insecure DNS).
	TLSA io.Reader
	// NoMX marks a [host] next hop or an A/AAAA fallback (no MX RRset).
	NoMX bool
}

// ObservationFromFiles builds the Observation of a successful STARTTLS handshake from
// files: the PEM chain a server presents and, optionally, its TLSA records. The DNS lookups
// count as DNSSEC-validated. The protocol, the cipher and (unless Addr is given) the address
// are not known from files: they stay empty, and the emulated log lines say "not observed"
// where Postfix would print them; set them afterwards when they are known. Errors wrap
// ErrObservation.
func ObservationFromFiles(in ObservationFiles) (Observation, error) {
	obs := Observation{
		Host: in.Host, Addr: in.Addr, Port: in.Port,
		HaveMX: !in.NoMX, MXSecure: true, AddrSecure: true,
		STARTTLSOffered: true,
	}
	if in.Chain != nil {
		certs, err := ReadPEMChain(in.Chain)
		if err != nil {
			return Observation{}, err
		}
		obs.Chain = certs
	}
	if in.TLSA != nil {
		recs, err := ReadTLSA(in.TLSA)
		if err != nil {
			return Observation{}, err
		}
		base := strings.TrimSuffix(in.Host, ".")
		port := in.Port
		if port == 0 {
			port = 25
		}
		q := dane.QueryName(base, port)
		obs.TLSA = &TLSAObservation{BaseDomain: base, QName: q, RName: q, Records: recs}
	}
	return obs, nil
}

// AddrNotObserved stands in Postfix's "host[addr]" when the observation has no address (an
// offline check from files): the emulated texts say so instead of inventing one.
const AddrNotObserved = "address not observed"

// namaddr is Postfix's "host[addr]" (smtp-level texts).
func (o Observation) namaddr() string {
	addr := o.Addr
	if addr == "" {
		addr = AddrNotObserved
	}
	return o.Host + "[" + addr + "]"
}

// tlsaRecords parses the observation's TLSA records (already validated by ReadTLSA or the
// live client); unreadable ones are returned as errors for the evidence.
func (t *TLSAObservation) records() ([]dane.Record, []string) {
	var out []dane.Record
	var bad []string
	for _, s := range t.Records {
		r, err := dane.ParseRecord(s)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		out = append(out, r)
	}
	return out, bad
}
