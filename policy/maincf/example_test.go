package maincf_test

import (
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/policy/maincf"
)

func Example() {
	mainCF := `compatibility_level = 3.6
mydomain = example.org
relayhost = [smtp.$mydomain]:587
smtp_tls_security_level = may
`
	masterCF := `relay     unix  -       -       n       -       -       smtp
  -o smtp_tls_security_level=encrypt
  -o { smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy }
`
	f, err := maincf.Parse(strings.NewReader(mainCF), "/etc/postfix/main.cf")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := maincf.ParseMaster(strings.NewReader(masterCF), "/etc/postfix/master.cf")
	if err != nil {
		fmt.Println(err)
		return
	}
	relay, _ := m.Service("relay", "unix")

	// The policy package owns the real per-version default table.
	defaults := maincf.DefaultsMap{
		"compatibility_level":         "0",
		"smtp_tls_fingerprint_digest": "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}",
		"smtp_tls_security_level":     "",
	}
	c := maincf.NewConfig(defaults, maincf.MainLayer(f), maincf.ServiceLayer(relay))

	for _, name := range []string{"relayhost", "smtp_tls_security_level", "smtp_tls_fingerprint_digest", "smtp_tls_policy_maps"} {
		v, _ := c.Raw(name)
		x, err := c.Expand(name)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s = %s (from %s)\n", name, x, v.Origin)
	}
	// Output:
	// relayhost = [smtp.example.org]:587 (from /etc/postfix/main.cf:3)
	// smtp_tls_security_level = encrypt (from /etc/postfix/master.cf:2 (service relay/unix))
	// smtp_tls_fingerprint_digest = sha256 (from default)
	// smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy (from /etc/postfix/master.cf:3 (service relay/unix))
}

func ExampleParse_error() {
	_, err := maincf.Parse(strings.NewReader("relayhost [mx.example.org]\n"), "/etc/postfix/main.cf")
	fmt.Println(err)
	// Output:
	// /etc/postfix/main.cf, line 1: missing '=' after attribute name: "relayhost [mx.example.org]"
}
