package dane

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/postfixtls/postfixtls/internal/pfutil"
)

// ErrTrustAnchorFile is wrapped by every trust-anchor file failure; any of them makes the
// Postfix policy invalid ("client TLS configuration problem").
var ErrTrustAnchorFile = errors.New("unusable trust anchor file")

// TrustAnchorError says why a trust-anchor file was rejected.
type TrustAnchorError struct {
	File string // the trust-anchor file
	// Warning is Postfix's warning line (without "warning: "), or "" when Postfix logs none
	// of its own (a file without any PEM object).
	Warning string
	Reason  string // what was wrong, in plain words
	Err     error  // the underlying error, or nil
}

// Error says which file failed and why.
func (e *TrustAnchorError) Error() string {
	s := fmt.Sprintf("trust anchor file %s: %s", e.File, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrTrustAnchorFile and the underlying error.
func (e *TrustAnchorError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrTrustAnchorFile, e.Err}
	}
	return []error{ErrTrustAnchorFile}
}

// TrustAnchors are the records made from one trust-anchor file.
type TrustAnchors struct {
	File string // the file read
	// Records: each certificate as "2 0 0" and "3 0 0", each public key as "2 1 0" and "3 1 0",
	// in file order.
	Records []Record
	// Objects counts every PEM object read, including skipped ones.
	Objects int
	// Skipped names the PEM block types that were read but not used (e.g. "PRIVATE KEY").
	Skipped []string
}

// RecordSet judges the trust-anchor records like TLSA records (Postfix hands them to OpenSSL
// the same way). Verify them with VerifyOptions.EENameChecks set and the policy's match names.
func (t *TrustAnchors) RecordSet(opts Options) *RecordSet {
	return Classify(t.Records, "", t.File, opts)
}

// ReadTrustAnchors reads a PEM trust-anchor file as tls_dane_load_trustfile does (§6.5):
// "CERTIFICATE" and "X509 CERTIFICATE" blocks become 2 0 0 and 3 0 0, "PUBLIC KEY" blocks
// 2 1 0 and 3 1 0; other blocks are skipped but counted. A file with no PEM object at all, or
// with a block that cannot be decoded, is an error.
func ReadTrustAnchors(r io.Reader, file string) (*TrustAnchors, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &TrustAnchorError{File: file, Reason: "read error", Err: err}
	}
	ta := &TrustAnchors{File: file}
	rest := data
	for {
		block, next := pemDecode(rest)
		if block == nil {
			if bytes.Contains(rest, []byte("-----BEGIN ")) {
				return nil, &TrustAnchorError{File: file, Reason: "malformed PEM object"}
			}
			break
		}
		rest = next
		ta.Objects++
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			ta.Records = append(ta.Records,
				Record{Usage: UsageDANETA, Selector: SelectorCert, MatchingType: MatchFull, Data: block.Bytes},
				Record{Usage: UsageDANEEE, Selector: SelectorCert, MatchingType: MatchFull, Data: block.Bytes})
		case "PUBLIC KEY":
			ta.Records = append(ta.Records,
				Record{Usage: UsageDANETA, Selector: SelectorSPKI, MatchingType: MatchFull, Data: block.Bytes},
				Record{Usage: UsageDANEEE, Selector: SelectorSPKI, MatchingType: MatchFull, Data: block.Bytes})
		default:
			ta.Skipped = append(ta.Skipped, block.Type)
		}
	}
	if ta.Objects == 0 {
		return nil, &TrustAnchorError{File: file, Reason: "no PEM object found"}
	}
	return ta, nil
}

// LoadTrustAnchorFile opens name in fsys and reads it with ReadTrustAnchors. An open failure
// carries Postfix's warning "error opening trust anchor file: <file>: <error text>".
func LoadTrustAnchorFile(ctx context.Context, fsys fs.FS, name string) (*TrustAnchors, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := fsys.Open(strings.TrimPrefix(name, "/"))
	if err != nil {
		return nil, &TrustAnchorError{File: name, Reason: "open failed", Err: err,
			Warning: fmt.Sprintf("error opening trust anchor file: %s: %s", name, pfutil.Strerror(err))}
	}
	defer f.Close()
	return ReadTrustAnchors(f, name)
}

// pemDecode returns the first PEM block, or nil when the first "-----BEGIN " line does not
// start a well-formed block (encoding/pem would silently skip it and find a later one).
func pemDecode(data []byte) (*pem.Block, []byte) {
	begin := bytes.Index(data, []byte("-----BEGIN "))
	if begin < 0 {
		return nil, data
	}
	from := data[begin:]
	block, rest := pem.Decode(from)
	if block == nil {
		return nil, data
	}
	end := bytes.Index(from, []byte("-----END "))
	if end < 0 {
		return nil, data
	}
	lineEnd := bytes.IndexByte(from[end:], '\n')
	consumedMax := len(from)
	if lineEnd >= 0 {
		consumedMax = end + lineEnd + 1
	}
	if len(from)-len(rest) > consumedMax {
		return nil, data
	}
	return block, rest
}
