package openssl

import (
	"strconv"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// Suite is one TLS 1.2-and-older cipher suite of OpenSSL 3.0 with the attributes its
// cipher-string aliases select on, as `openssl ciphers -V` prints them.
type Suite struct {
	// ID is the suite's IANA number.
	ID uint16
	// Name is OpenSSL's name ("ECDHE-RSA-AES256-GCM-SHA384").
	Name string
	// MinProto is the oldest protocol the suite is defined for ("SSLv3", "TLSv1", "TLSv1.2").
	MinProto string
	// Kx, Au, Enc and Mac are the key exchange, authentication, encryption (with the key
	// size in parentheses) and MAC columns; "None" in Au is anonymous (aNULL), in Enc
	// unencrypted (eNULL).
	Kx, Au, Enc, Mac string
}

// Bits is the suite's symmetric key size from the Enc column (0 for eNULL).
func (s Suite) Bits() int { return encBits(s.Enc) }

// Anonymous reports whether the suite has no server authentication (aNULL) but does encrypt.
func (s Suite) Anonymous() bool { return s.Au == "None" && s.Enc != "None" }

// SuiteByID returns OpenSSL's suite with IANA number id.
func SuiteByID(id uint16) (Suite, bool) {
	for _, s := range suites {
		if s.ID == id {
			return s, true
		}
	}
	return Suite{}, false
}

func encBits(enc string) int {
	if i := strings.IndexByte(enc, '('); i >= 0 {
		n, _ := strconv.Atoi(strings.TrimSuffix(enc[i+1:], ")"))
		return n
	}
	return 0
}

// enabledSuites evaluates an OpenSSL cipher string over suites and reports which
// suites end up enabled. It models what decides membership (ordering is irrelevant to Go):
// plain rules add suites not yet killed, "-" removes (re-addable), "!" kills for good, "+"
// only reorders, "@..." are commands; "A+B" intersects aliases; unknown names match nothing.
func enabledSuites(s string) []bool {
	in := make([]bool, len(suites))
	killed := make([]bool, len(suites))
	attrs := make([]suiteAttrs, len(suites))
	for i := range suites {
		attrs[i] = attrsOf(&suites[i])
	}
	rest := s
	for {
		tok, more := pfutil.Strtok(&rest, ":, ;")
		if !more {
			break
		}
		op := byte(0)
		switch tok[0] {
		case '!', '-', '+':
			op, tok = tok[0], tok[1:]
		case '@':
			continue
		}
		if op == '+' {
			continue
		}
		parts := strings.Split(tok, "+")
		for i := range suites {
			match := true
			for _, part := range parts {
				if !suiteMatches(&suites[i], attrs[i], part) {
					match = false
					break
				}
			}
			if !match {
				continue
			}
			switch op {
			case 0:
				if !killed[i] {
					in[i] = true
				}
			case '-':
				in[i] = false
			case '!':
				in[i], killed[i] = false, true
			}
		}
	}
	return in
}

// suiteAttrs are the parsed parts of a suite's Enc column.
type suiteAttrs struct {
	enc  string // "AESGCM", "Camellia", "None", ...
	bits int
}

func attrsOf(s *Suite) suiteAttrs {
	enc := s.Enc
	if i := strings.IndexByte(enc, '('); i >= 0 {
		enc = enc[:i]
	}
	return suiteAttrs{enc: enc, bits: encBits(s.Enc)}
}

// suiteMatches reports whether alias (an OpenSSL 3.0 cipher-string name) selects suite s.
func suiteMatches(s *Suite, a suiteAttrs, alias string) bool {
	if alias == s.Name {
		return true
	}
	enc, bits := a.enc, a.bits
	anon := s.Au == "None"
	switch alias {
	case "ALL":
		return enc != "None"
	case "COMPLEMENTOFALL", "eNULL", "NULL":
		return enc == "None"
	case "COMPLEMENTOFDEFAULT":
		// OpenSSL 3.0 marks anonymous, DSS, Camellia, ARIA and CCM suites "not default";
		// "DEFAULT" itself is only special at the start of a string (not modelled here).
		return enc != "None" && (anon || s.Au == "DSS" || enc == "Camellia" || enc == "ARIAGCM" ||
			enc == "AESCCM" || enc == "AESCCM8")
	case "HIGH":
		return enc != "None"
	case "MD5":
		return s.Mac == "MD5"
	case "kRSA":
		return s.Kx == "RSA"
	case "RSA":
		return s.Kx == "RSA" && s.Au == "RSA"
	case "kDHE", "kEDH", "DH":
		return s.Kx == "DH"
	case "DHE", "EDH":
		return s.Kx == "DH" && !anon
	case "ADH":
		return s.Kx == "DH" && anon
	case "kECDHE", "kEECDH", "ECDH":
		return s.Kx == "ECDH"
	case "ECDHE", "EECDH":
		return s.Kx == "ECDH" && !anon
	case "AECDH":
		return s.Kx == "ECDH" && anon
	case "kPSK":
		return s.Kx == "PSK"
	case "kRSAPSK":
		return s.Kx == "RSAPSK"
	case "kECDHEPSK":
		return s.Kx == "ECDHEPSK"
	case "kDHEPSK":
		return s.Kx == "DHEPSK"
	case "PSK":
		return strings.HasSuffix(s.Kx, "PSK")
	case "kSRP", "SRP":
		return s.Kx == "SRP"
	case "aRSA":
		return s.Au == "RSA"
	case "aDSS", "DSS":
		return s.Au == "DSS"
	case "aNULL":
		return anon
	case "aECDSA", "ECDSA":
		return s.Au == "ECDSA"
	case "aPSK":
		return s.Au == "PSK"
	case "aSRP":
		return s.Au == "SRP"
	case "AES":
		return strings.HasPrefix(enc, "AES")
	case "AES128":
		return strings.HasPrefix(enc, "AES") && bits == 128
	case "AES256":
		return strings.HasPrefix(enc, "AES") && bits == 256
	case "AESGCM":
		return enc == "AESGCM"
	case "AESCCM":
		return enc == "AESCCM" || enc == "AESCCM8"
	case "AESCCM8":
		return enc == "AESCCM8"
	case "CAMELLIA":
		return enc == "Camellia"
	case "CAMELLIA128":
		return enc == "Camellia" && bits == 128
	case "CAMELLIA256":
		return enc == "Camellia" && bits == 256
	case "CHACHA20":
		return enc == "CHACHA20/POLY1305"
	case "ARIA", "ARIAGCM":
		return enc == "ARIAGCM"
	case "ARIA128":
		return enc == "ARIAGCM" && bits == 128
	case "ARIA256":
		return enc == "ARIAGCM" && bits == 256
	case "CBC":
		return enc == "AES" || enc == "Camellia"
	case "SHA1", "SHA":
		return s.Mac == "SHA1"
	case "SHA256":
		return s.Mac == "SHA256"
	case "SHA384":
		return s.Mac == "SHA384"
	case "SSLv3":
		return s.MinProto == "SSLv3"
	case "TLSv1", "TLSv1.0":
		return s.MinProto == "TLSv1"
	case "TLSv1.2":
		return s.MinProto == "TLSv1.2"
	}
	return false
}
