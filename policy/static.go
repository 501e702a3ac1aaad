package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/postfixtls/postfixtls/fingerprint"
)

// clientStatic is everything about a client's TLS policy that does not depend on the
// destination: smtp(8) reads and checks these parameters once at startup. Computing them once
// per transport keeps each policy lookup cheap.
type clientStatic struct {
	err error // a fatal configuration error: every policy computation fails with it

	global    Level
	globalSrc Source

	policyMapsTitle, perSiteTitle string
	policyMaps, perSite           string
	policyTables                  bool // policy table lookups: policyMaps, or rows a fix adds
	utf8                          bool
	dns                           bool // DNS lookups on (MX lookups for bare domains)
	enforceSTSMX                  bool // smtp_tls_enforce_sts_mx_patterns (3.10.5+)

	wrapper     bool
	protoMay    string
	protoMand   string
	sni         string
	sniWarning  string // non-empty: smtp_tls_servername is invalid (every policy invalid)
	ciphMay     string
	ciphMand    string
	exclude     []string // smtp_tls_exclude_ciphers
	mandExclude []string // smtp_tls_mandatory_exclude_ciphers
	// The main.cf exclusion lists per level, with Postfix's eNULL/aNULL added (read-only,
	// shared by every Policy).
	exclMay, exclEncrypt, exclAuth []string
	caFile, caPath                 string
	appendCA                       bool
	reuse, rpk                     bool
	fpDigest                       string
	fpMatch                        []string
	fpMatchParam                   string
	verifyMatch                    []string
	verifyParam                    string
	secureMatch                    []string
	secureParam                    string
	trustAnchors                   []string
	daneProblemFmt                 string // "%s: %s configured with dnssec lookups disabled" style, "" when DANE can work
	insecureMX                     string
	daneDigests                    []string
	forceInsecTLSA                 bool
	perSiteWarnings                []string
	engineProblem                  []string // why tls_client_init() would fail ("disabling TLS support")
	minBackoff                     time.Duration
	singleLabelWildcards           bool
}

// static computes (once) the client's startup-time settings.
func (v *clientView) static() *clientStatic {
	v.staticOnce.Do(func() { v.st = v.computeStatic() })
	return v.st
}

func (v *clientView) computeStatic() *clientStatic {
	st := &clientStatic{policyMapsTitle: v.name("tls_policy_maps"), perSiteTitle: v.name("tls_per_site")}
	fail := func(err error) *clientStatic { st.err = err; return st }
	var err error
	if st.global, st.globalSrc, err = v.globalLevel(); err != nil {
		return fail(err)
	}
	str := func(dst *string, suffix string) {
		if err == nil {
			*dst, err = v.get(suffix)
		}
	}
	boolean := func(dst *bool, name string) {
		if err == nil {
			*dst, err = v.boolParamDefault(name, false)
		}
	}
	str(&st.policyMaps, "tls_policy_maps")
	str(&st.perSite, "tls_per_site")
	boolean(&st.utf8, "smtputf8_enable")
	boolean(&st.enforceSTSMX, v.name("tls_enforce_sts_mx_patterns"))
	boolean(&st.wrapper, v.name("tls_wrappermode"))
	str(&st.protoMay, "tls_protocols")
	str(&st.protoMand, "tls_mandatory_protocols")
	str(&st.sni, "tls_servername")
	str(&st.ciphMay, "tls_ciphers")
	str(&st.ciphMand, "tls_mandatory_ciphers")
	var excl, mexcl, ta, fpm, dg, imx, dnsLevel, hostLookup, resopt string
	str(&excl, "tls_exclude_ciphers")
	str(&mexcl, "tls_mandatory_exclude_ciphers")
	str(&st.caFile, "tls_CAfile")
	str(&st.caPath, "tls_CApath")
	boolean(&st.appendCA, "tls_append_default_CA")
	boolean(&st.reuse, v.name("tls_connection_reuse"))
	boolean(&st.rpk, v.name("tls_enable_rpk"))
	str(&st.fpDigest, "tls_fingerprint_digest")
	str(&fpm, "tls_fingerprint_cert_match")
	str(&ta, "tls_trust_anchor_file")
	str(&dnsLevel, "dns_support_level")
	str(&hostLookup, "host_lookup")
	str(&resopt, "dns_resolver_options")
	boolean(&st.forceInsecTLSA, v.name("tls_force_insecure_host_tlsa_lookup"))
	if err == nil {
		st.minBackoff, err = v.s.Duration("minimal_backoff_time")
	}
	multi := true
	if err == nil {
		multi, err = v.boolParamDefault("tls_wildcard_matches_multiple_labels", true)
	}
	st.singleLabelWildcards = !multi
	if err != nil {
		return fail(err)
	}
	cipherList := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return isListSep(r) || r == ':' })
	}
	st.exclude, st.mandExclude = cipherList(excl), cipherList(mexcl)
	join := func(also string) []string {
		out := append(append(append([]string(nil), st.exclude...), st.mandExclude...), also)
		return out[:len(out):len(out)]
	}
	st.exclMay = st.exclude[:len(st.exclude):len(st.exclude)]
	st.exclEncrypt, st.exclAuth = join("eNULL"), join("aNULL")
	st.fpMatch, st.fpMatchParam = strings.FieldsFunc(fpm, isListSep), v.name("tls_fingerprint_cert_match")
	st.trustAnchors = strings.FieldsFunc(ta, isListSep)

	// Match lists: an empty value is fatal at startup (minimum length 1).
	for _, m := range []struct {
		dst   *[]string
		param *string
		name  string
	}{{&st.verifyMatch, &st.verifyParam, v.name("tls_verify_cert_match")}, {&st.secureMatch, &st.secureParam, v.name("tls_secure_cert_match")}} {
		val, perr := v.param(m.name)
		if perr != nil {
			return fail(perr)
		}
		if val.Value == "" {
			return fail(&ParamError{Param: val, Text: fmt.Sprintf("bad parameter value: %s = ", m.name)})
		}
		*m.dst = strings.FieldsFunc(val.Value, func(r rune) bool { return isListSep(r) || r == ':' })
		*m.param = m.name
	}

	// smtp_tls_servername is checked when a policy is built; an invalid one invalidates
	// every policy.
	if st.sni != "" {
		if ok, _ := pfValidHostname(st.sni); !ok {
			st.sniWarning = fmt.Sprintf("\"%s = %s\" specifies an invalid hostname", v.name("tls_servername"), st.sni)
		}
	}

	// DNS support level: invalid is fatal at startup.
	switch dnsLevel {
	case "", "disabled", "enabled", "dnssec":
	default:
		dp, _ := v.param(v.name("dns_support_level"))
		return fail(&ParamError{Param: dp, Text: fmt.Sprintf("invalid %s: \"%s\"", dp.Name, dnsLevel)})
	}
	// Postfix's smtp(8) post_init(): an empty level means "enabled" unless the obsolete
	// disable_dns_lookups is set; host lookups use DNS only if smtp_host_lookup says dns.
	st.dns = dnsLevel != "disabled" && hasWord(hostLookup, "dns")
	if dnsLevel == "" {
		dis, derr := v.boolParamDefault("disable_dns_lookups", false)
		if derr != nil {
			return fail(derr)
		}
		st.dns = st.dns && !dis
	}
	ign, berr := v.boolParam("ignore_mx_lookup_error")
	if berr != nil {
		return fail(berr)
	}
	switch {
	case dnsLevel != "dnssec" || !hasWord(hostLookup, "dns"):
		st.daneProblemFmt = "%s: %s configured with dnssec lookups disabled"
	case v.client == SMTP && ign:
		st.daneProblemFmt = "%s: %s configured with MX lookup errors ignored"
	case hasWord(resopt, "res_defnames") || hasWord(resopt, "res_dnsrch"):
		st.daneProblemFmt = "%s: dns resolver options incompatible with %s TLS"
	}
	if v.client == SMTP && v.s.version.Before(3, 1, 0) {
		// Before 3.1 there was no halfdane and no parameter: an insecure MX RRset meant no DANE.
		st.insecureMX = "may"
	} else if v.client == SMTP {
		ip, perr := v.param(v.name("tls_dane_insecure_mx_policy"))
		if perr != nil {
			return fail(perr)
		}
		imx = ip.Value
		switch strings.ToLower(imx) {
		case "may", "encrypt", "dane":
			st.insecureMX = strings.ToLower(imx)
		default:
			return fail(&ParamError{Param: ip, Text: fmt.Sprintf("invalid %s: \"%s\"", ip.Name, imx)})
		}
	}
	if dgp, derr := v.param("tls_dane_digests"); derr == nil {
		dg = dgp.Value
	}
	st.daneDigests = strings.FieldsFunc(dg, func(r rune) bool { return isListSep(r) || r == ':' })
	st.policyTables = st.policyMaps != "" || v.s.edits != nil && v.s.edits.hasRows
	st.engineProblem = v.engineProblem(st)
	if st.policyTables && st.perSite != "" {
		st.perSiteWarnings = []string{fmt.Sprintf("%s ignored when %s is not empty.", st.perSiteTitle, st.policyMapsTitle)}
	}
	return st
}

// engineProblem reproduces the configuration checks of tls_client_init(): the TLS engine is
// only started when TLS may be used at all, and it fails on an unknown fingerprint digest or
// CA data OpenSSL cannot load (SSL_CTX_load_verify_locations: a CAfile that cannot be read
// or holds no certificate; a CApath is only searched later, so it cannot fail here).
func (v *clientView) engineProblem(st *clientStatic) []string {
	if st.global == None && !st.policyTables && st.perSite == "" {
		return nil
	}
	if _, err := fingerprint.CanonicalDigest(st.fpDigest); err != nil {
		return []string{fmt.Sprintf("Digest algorithm \"%s\" not found", st.fpDigest), "disabling TLS support"}
	}
	if st.caFile == "" {
		return nil
	}
	data, err := v.s.readFile(st.caFile)
	if err == nil {
		for _, b := range []string{"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"} {
			if strings.Contains(string(data), "-----BEGIN "+b+"-----") {
				return nil
			}
		}
	}
	where := fmt.Sprintf("CAfile=\"%s\"", st.caFile)
	if st.caPath != "" {
		where += fmt.Sprintf(", CApath=\"%s\"", st.caPath)
	}
	return []string{"cannot load Certification Authority data, " + where + ": disabling TLS support"}
}
