// Command gensuites writes the table of TLS 1.2-and-older cipher suites that smtpclient
// evaluates OpenSSL cipher strings over (smtpclient/suites_table.go). It runs
//
//	openssl ciphers -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'
//
// on the installed OpenSSL (the build Postfix links against: Debian 12's 3.0) and keeps, per
// suite, the code point, name, minimum protocol and the Kx/Au/Enc/Mac attributes that
// OpenSSL's cipher-string aliases select on. TLS 1.3 suites are left out: cipher strings do
// not apply to them. The package's go:generate line runs it:
//
//	go run github.com/postfixtls/postfixtls/internal/cmd/gensuites [-openssl path] [-pkg name] [-var name] [-type name] [-o file]
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// cipherList is the cipher string whose expansion is every suite the build has.
const cipherList = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"

// Options say what to name in the generated file.
type Options struct {
	Package string // package clause
	Var     string // the array's name
	Type    string // its element type
}

// defaults are the names smtpclient uses.
var defaults = Options{Package: "smtpclient", Var: "opensslSuites", Type: "osslSuite"}

// suite is one line of `openssl ciphers -V`.
type suite struct {
	id                               uint16
	name, minProto, kx, au, enc, mac string
}

// parse reads the output of `openssl ciphers -V`, e.g.
//
//	0xC0,0x2C - ECDHE-ECDSA-AES256-GCM-SHA384  TLSv1.2 Kx=ECDH     Au=ECDSA Enc=AESGCM(256)            Mac=AEAD
//
// and returns the suites that are not TLS 1.3 suites, in OpenSSL's order.
func parse(r io.Reader) ([]suite, error) {
	var out []suite
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 8 || f[1] != "-" {
			return nil, fmt.Errorf("line %d: unexpected format: %q", n, sc.Text())
		}
		id, err := codePoint(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		s := suite{id: id, name: f[2], minProto: f[3]}
		for i, p := range []*string{&s.kx, &s.au, &s.enc, &s.mac} {
			key := [...]string{"Kx=", "Au=", "Enc=", "Mac="}[i]
			v, ok := strings.CutPrefix(f[4+i], key)
			if !ok {
				return nil, fmt.Errorf("line %d: %q does not start with %s", n, f[4+i], key)
			}
			*p = v
		}
		if s.minProto == "TLSv1.3" {
			continue
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("openssl listed no TLS 1.2-and-older suites")
	}
	return out, nil
}

// codePoint parses "0xC0,0x2C".
func codePoint(s string) (uint16, error) {
	hi, lo, ok := strings.Cut(s, ",")
	if !ok {
		return 0, fmt.Errorf("bad code point %q", s)
	}
	h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
	l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("bad code point %q: %w", s, err)
	}
	return uint16(h)<<8 | uint16(l), nil
}

// render writes the Go source of the table.
func render(suites []suite, o Options) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "package %s\n\n", o.Package)
	fmt.Fprintf(&b, `// %s lists the TLS 1.2-and-older cipher suites of the OpenSSL 3.0 build that Postfix
// links against on Debian 12 (`+"`openssl ciphers -V '%s'`"+`), with the
// attributes OpenSSL's cipher-string aliases select on. Enc "None" is eNULL; every other
// suite of this build is in the HIGH class (the build has no 3DES, RC4, SEED or IDEA suites,
// so MEDIUM and LOW are empty). Generated once from the openssl(1) output; read-only.
`, o.Var, cipherList)
	fmt.Fprintf(&b, "var %s = [...]%s{\n", o.Var, o.Type)
	for _, s := range suites {
		fmt.Fprintf(&b, "\t{0x%04x, %q, %q, %q, %q, %q, %q},\n", s.id, s.name, s.minProto, s.kx, s.au, s.enc, s.mac)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// generate runs openssl and returns the file's contents.
func generate(openssl string, o Options) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(openssl, "ciphers", "-V", cipherList)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s ciphers -V %s: %w: %s", openssl, cipherList, err, bytes.TrimSpace(stderr.Bytes()))
	}
	suites, err := parse(bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	return render(suites, o)
}

// run is the command: args are its flags (without the program name).
func run(args []string, stdout io.Writer) error {
	o := defaults
	fs := flag.NewFlagSet("gensuites", flag.ContinueOnError)
	openssl := fs.String("openssl", "openssl", "the openssl(1) program")
	out := fs.String("o", "", "output file (default standard output)")
	fs.StringVar(&o.Package, "pkg", o.Package, "package name")
	fs.StringVar(&o.Var, "var", o.Var, "name of the table")
	fs.StringVar(&o.Type, "type", o.Type, "element type of the table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	src, err := generate(*openssl, o)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(src)
		return err
	}
	return os.WriteFile(*out, src, 0o644)
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gensuites:", err)
		os.Exit(1)
	}
}
