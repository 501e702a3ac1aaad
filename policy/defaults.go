package policy

import "strings"

// A defaultRule gives a parameter's built-in default from a release on.
type defaultRule struct {
	from  Version
	value string
}

// Postfix's own conditional defaults, written as Postfix writes them (postconf -d).
const (
	defFingerprintDigest36 = "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}"
	defSecurityLevel311    = "${{$compatibility_level} <level {3.11} ? {} : {may}}"
	defInsecureMXCond      = "${{$smtp_tls_security_level} == {dane} ? {dane} : {may}}"
	defRelayDomains        = "${{$compatibility_level} <level {2} ? {$mydestination} : {}}"
	defSMTPUTF8            = "${{$compatibility_level} <level {1} ? {no} : {yes}}"
	// Before 3.6 (no "<level" operator) the same defaults compared numerically.
	defRelayDomains30 = "${{$compatibility_level} < {2} ? {$mydestination} : {}}"
	defSMTPUTF830     = "${{$compatibility_level} < {1} ? {no} : {yes}}"
)

// clientDefaults holds the defaults of the SMTP client's parameters. A name starting with "@"
// stands for both the smtp_ and the lmtp_ parameter; lmtpDefaults overrides the few LMTP
// parameters whose defaults differ. Rules are ordered by release; the last rule whose release
// is not newer than the emulated one applies. The table is never written.
var clientDefaults = map[string][]defaultRule{
	"@_tls_security_level":                            {{V(2, 3, 0), ""}},
	"@_use_tls":                                       {{V(2, 2, 0), "no"}},
	"@_enforce_tls":                                   {{V(2, 2, 0), "no"}},
	"@_tls_enforce_peername":                          {{V(2, 2, 0), "yes"}},
	"@_tls_per_site":                                  {{V(2, 2, 0), ""}},
	"@_tls_policy_maps":                               {{V(2, 3, 0), ""}},
	"@_tls_ciphers":                                   {{V(2, 6, 0), "export"}, {V(3, 1, 0), "medium"}},
	"@_tls_mandatory_ciphers":                         {{V(2, 3, 0), "medium"}},
	"@_tls_exclude_ciphers":                           {{V(2, 3, 0), ""}},
	"@_tls_mandatory_exclude_ciphers":                 {{V(2, 3, 0), ""}},
	"@_tls_protocols":                                 {{V(2, 6, 0), "!SSLv2"}, {V(3, 1, 0), "!SSLv2, !SSLv3"}, {V(3, 6, 0), ">=TLSv1"}},
	"@_tls_mandatory_protocols":                       {{V(2, 3, 0), "!SSLv2"}, {V(3, 1, 0), "!SSLv2, !SSLv3"}, {V(3, 6, 0), ">=TLSv1"}},
	"@_tls_fingerprint_cert_match":                    {{V(2, 5, 0), ""}},
	"@_tls_fingerprint_digest":                        {{V(2, 5, 0), "md5"}, {V(3, 6, 0), defFingerprintDigest36}},
	"@_tls_verify_cert_match":                         {{V(2, 3, 0), "hostname"}},
	"@_tls_secure_cert_match":                         {{V(2, 3, 0), "nexthop, dot-nexthop"}},
	"@_tls_CAfile":                                    {{V(2, 2, 0), ""}},
	"@_tls_CApath":                                    {{V(2, 2, 0), ""}},
	"@_tls_trust_anchor_file":                         {{V(2, 11, 0), ""}},
	"@_tls_servername":                                {{V(3, 4, 0), ""}},
	"@_tls_wrappermode":                               {{V(3, 0, 0), "no"}},
	"@_tls_loglevel":                                  {{V(2, 2, 0), "0"}},
	"@_tls_note_starttls_offer":                       {{V(2, 2, 0), "no"}},
	"@_tls_force_insecure_host_tlsa_lookup":           {{V(2, 11, 0), "no"}},
	"@_tls_connection_reuse":                          {{V(3, 4, 0), "no"}},
	"@_tls_enable_rpk":                                {{V(3, 9, 0), "no"}},
	"@_tls_enforce_sts_mx_patterns":                   {{V(3, 10, 5), "yes"}},
	"@_tls_scert_verifydepth":                         {{V(2, 2, 0), "9"}},
	"@_dns_support_level":                             {{V(2, 11, 0), ""}},
	"@_dns_resolver_options":                          {{V(2, 8, 0), ""}},
	"@_host_lookup":                                   {{V(2, 1, 0), "dns"}},
	"@_mx_address_limit":                              {{V(2, 1, 0), "5"}},
	"@_mx_session_limit":                              {{V(2, 1, 0), "2"}},
	"smtp_connect_timeout":                            {{V(2, 1, 0), "30s"}},
	"lmtp_connect_timeout":                            {{V(2, 1, 0), "0s"}},
	"smtp_helo_timeout":                               {{V(2, 1, 0), "300s"}},
	"lmtp_lhlo_timeout":                               {{V(2, 1, 0), "300s"}},
	"@_starttls_timeout":                              {{V(2, 2, 0), "300s"}},
	"@_mail_timeout":                                  {{V(2, 1, 0), "300s"}},
	"@_rcpt_timeout":                                  {{V(2, 1, 0), "300s"}},
	"@_rset_timeout":                                  {{V(2, 1, 0), "20s"}},
	"soft_bounce":                                     {{V(2, 0, 0), "no"}},
	"@_cname_overrides_servername":                    {{V(2, 2, 9), "no"}},
	"@_sasl_password_maps":                            {{V(2, 1, 0), ""}},
	"@_address_preference":                            {{V(2, 8, 0), "any"}},
	"smtp_tcp_port":                                   {{V(2, 1, 0), "smtp"}},
	"lmtp_tcp_port":                                   {{V(2, 1, 0), "24"}},
	"smtp_fallback_relay":                             {{V(2, 3, 0), "$fallback_relay"}},
	"smtp_tls_security_level#3.11":                    {{V(3, 11, 0), defSecurityLevel311}},
	"lmtp_tls_secure_cert_match#lmtp":                 {{V(2, 3, 0), "nexthop"}},
	"compatibility_level":                             {{V(3, 0, 0), "0"}},
	"tls_append_default_CA":                           {{V(2, 4, 0), "no"}},
	"tls_dane_digests":                                {{V(2, 11, 0), "sha512 sha256"}},
	"tls_wildcard_matches_multiple_labels":            {{V(2, 11, 0), "yes"}},
	"tls_legacy_public_key_fingerprints":              {{V(2, 9, 6), "no"}},
	"tls_required_enable":                             {{V(3, 10, 0), "yes"}},
	"relayhost":                                       {{V(2, 0, 0), ""}},
	"fallback_relay":                                  {{V(2, 0, 0), ""}},
	"default_transport":                               {{V(2, 0, 0), "smtp"}},
	"local_transport":                                 {{V(2, 0, 0), "local:$myhostname"}},
	"virtual_transport":                               {{V(2, 0, 0), "virtual"}},
	"relay_transport":                                 {{V(2, 0, 0), "relay"}},
	"transport_maps":                                  {{V(2, 0, 0), ""}},
	"mydestination":                                   {{V(2, 0, 0), "$myhostname, localhost.$mydomain, localhost"}},
	"relay_domains":                                   {{V(2, 0, 0), "$mydestination"}, {V(3, 0, 0), defRelayDomains30}, {V(3, 6, 0), defRelayDomains}},
	"virtual_alias_domains":                           {{V(2, 0, 0), "$virtual_alias_maps"}},
	"virtual_alias_maps":                              {{V(2, 0, 0), "$virtual_maps"}},
	"virtual_mailbox_domains":                         {{V(2, 0, 0), "$virtual_mailbox_maps"}},
	"virtual_mailbox_maps":                            {{V(2, 0, 0), ""}},
	"virtual_maps":                                    {{V(2, 0, 0), ""}},
	"smtputf8_enable":                                 {{V(3, 0, 0), defSMTPUTF830}, {V(3, 6, 0), defSMTPUTF8}},
	"inet_protocols":                                  {{V(2, 2, 0), "all"}},
	"minimal_backoff_time":                            {{V(2, 0, 0), "300s"}},
	"tlsproxy_service_name":                           {{V(3, 4, 0), "tlsproxy"}},
	"sender_dependent_relayhost_maps":                 {{V(2, 3, 0), ""}},
	"sender_dependent_default_transport_maps":         {{V(2, 7, 0), ""}},
	"empty_address_relayhost_maps_lookup_key":         {{V(2, 5, 0), "<>"}},
	"empty_address_default_transport_maps_lookup_key": {{V(2, 7, 0), "<>"}},
	"recipient_delimiter":                             {{V(2, 0, 0), ""}},
	"ignore_mx_lookup_error":                          {{V(2, 0, 0), "no"}},
	"default_database_type":                           {{V(2, 0, 0), "hash"}},
	"config_directory":                                {{V(2, 0, 0), "/etc/postfix"}},
	"tls_high_cipherlist":                             {{V(2, 3, 0), "aNULL:-aNULL:HIGH:@STRENGTH"}, {V(3, 8, 0), "aNULL:-aNULL:HIGH:!SEED:!IDEA:!3DES:!RC2:!RC4:!RC5:!kDH:!kECDH:!aDSS:!MD5:@STRENGTH"}},
	"tls_medium_cipherlist":                           {{V(2, 3, 0), "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH"}, {V(3, 8, 0), "aNULL:-aNULL:HIGH:MEDIUM:!SEED:!IDEA:!3DES:!RC2:!RC4:!RC5:!kDH:!kECDH:!aDSS:!MD5:+RC4:@STRENGTH"}},
	"tls_null_cipherlist":                             {{V(2, 3, 0), "eNULL:!aNULL"}, {V(3, 8, 0), "eNULL:!kDH:!kECDH:!aDSS:!MD5:!aNULL"}},
	"tls_low_cipherlist":                              {{V(2, 3, 0), "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH"}, {V(3, 8, 0), ""}},
	"tls_export_cipherlist":                           {{V(2, 3, 0), "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH"}, {V(3, 8, 0), ""}},
	"smtp_tls_session_cache_database":                 {{V(2, 2, 0), ""}},
	"lmtp_tls_session_cache_database":                 {{V(2, 3, 0), ""}},
	"smtp_tls_block_early_mail_reply":                 {{V(2, 7, 0), "no"}},
	"smtp_skip_5xx_greeting":                          {{V(2, 0, 0), "yes"}},
}

// insecureMXDefault is smtp_tls_dane_insecure_mx_policy's built-in default. It was "dane"
// from 3.1; a conditional default (dane only when the global level is dane, else may) was in
// 3.4.19+, 3.5.9+, 3.6.0-3.6.16, 3.7.0-3.7.12, 3.8.0-3.8.7 and 3.9.0-3.9.1; "dane" again in
// 3.6.17, 3.7.13, 3.8.8, 3.9.2 and 3.10 on.
func insecureMXDefault(v Version) (string, bool) {
	switch {
	case v.Before(3, 1, 0):
		return "", false
	case v.InSeries(3, 4) && v.AtLeast(3, 4, 19),
		v.InSeries(3, 5) && v.AtLeast(3, 5, 9),
		v.InSeries(3, 6) && v.Before(3, 6, 17),
		v.InSeries(3, 7) && v.Before(3, 7, 13),
		v.InSeries(3, 8) && v.Before(3, 8, 8),
		v.InSeries(3, 9) && v.Before(3, 9, 2):
		return defInsecureMXCond, true
	}
	return "dane", true
}

// BuiltinDefault returns the built-in default of a main.cf parameter in Postfix release v, as
// `postconf -d` would print it for that release (unexpanded), and whether this module knows
// the parameter there. Only the parameters that matter to the SMTP and LMTP clients' TLS
// decisions and next-hop routing are known.
func BuiltinDefault(v Version, name string) (string, bool) {
	client, rest, isClient := splitClient(name)
	if isClient && rest == "_tls_dane_insecure_mx_policy" {
		// The LMTP client makes no MX lookups and has no such parameter.
		if client == "lmtp" {
			return "", false
		}
		return insecureMXDefault(v)
	}
	if isClient {
		switch {
		case name == "smtp_tls_security_level" && v.AtLeast(3, 11, 0):
			return pick(v, clientDefaults["smtp_tls_security_level#3.11"])
		case name == "lmtp_tls_secure_cert_match":
			return pick(v, clientDefaults["lmtp_tls_secure_cert_match#lmtp"])
		}
		if r, ok := clientDefaults[name]; ok {
			return pick(v, r)
		}
		if r, ok := clientDefaults["@"+rest]; ok && r != nil {
			return pick(v, r)
		}
		return "", false
	}
	if strings.ContainsRune(name, '#') {
		return "", false
	}
	if r, ok := clientDefaults[name]; ok && r != nil {
		return pick(v, r)
	}
	return "", false
}

func pick(v Version, rules []defaultRule) (string, bool) {
	val, ok := "", false
	for _, r := range rules {
		if v.Compare(r.from) >= 0 {
			val, ok = r.value, true
		}
	}
	return val, ok
}

// splitClient splits "smtp_tls_ciphers" into ("smtp", "_tls_ciphers").
func splitClient(name string) (client, rest string, ok bool) {
	for _, c := range [...]string{"smtp", "lmtp"} {
		if strings.HasPrefix(name, c+"_") {
			return c, name[len(c):], true
		}
	}
	return "", "", false
}
