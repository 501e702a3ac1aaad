package checkcmd

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/postfixtls/postfixtls/cmd/postfixtls/internal/cli"
)

// FuzzParseArgs feeds arbitrary command lines (arguments separated by NUL) to the parser: it
// must never panic, and every accepted command line has exactly one non-empty destination
// and well-formed -o overrides.
func FuzzParseArgs(f *testing.F) {
	for _, seed := range []string{
		"-C\x00/etc/postfix\x00user@example.com",
		"-json\x00[mx.example.com]:587\x00-service\x00relay",
		"-o\x00smtp_tls_security_level=secure\x00-o\x00a=b=c\x00example.com",
		"-cert\x00chain.pem\x00-tlsa\x003 1 1 ab\x00-mx\x00mx.example.com\x00example.com",
		"-resolver\x00127.0.0.1:53\x00-version\x003.7.11\x00example.com",
		"-service\x00relay\x00example.com",
		"--\x00-json",
		"-o\x00=x\x00a",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, "\x00")
		}
		o, err := parseArgs(args, io.Discard)
		if err != nil {
			var ue *cli.UsageError
			if !errors.As(err, &ue) && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("%q: error of type %T: %v", args, err, err)
			}
			return
		}
		for _, d := range o.dests {
			if strings.TrimSpace(d) == "" {
				t.Fatalf("%q: accepted an empty destination", args)
			}
		}
		for _, ov := range o.cfg.Overrides {
			if name, _, ok := strings.Cut(ov, "="); !ok || strings.TrimSpace(name) == "" {
				t.Fatalf("%q: accepted override %q", args, ov)
			}
		}
		if o.checkDestinations() != nil {
			return
		}
		for _, d := range o.dests {
			if o.service != "" && !explicitNextHop(d) {
				t.Fatalf("%q: -service accepted for %q", args, d)
			}
		}
	})
}
