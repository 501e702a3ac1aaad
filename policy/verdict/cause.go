package verdict

// Cause is the rule that failed or skipped a server, set by the evaluator where it decides
// (never read back from Postfix's wording, which differs between releases). Findings and
// fixes are chosen by it, so the same Observation judged as Postfix 2.11 and as 3.11 gets
// the same cause and finding, each in its release's words. CauseNone means the attempt
// delivered.
type Cause string

// The causes.
const (
	CauseNone Cause = ""
	// CauseDNSLookup: the MX or address lookup failed (§6.2).
	CauseDNSLookup Cause = "dns-lookup"
	// CauseInvalidPolicy: Postfix marked the policy invalid and does not connect (§1.4).
	CauseInvalidPolicy Cause = "invalid-policy"
	// CauseTLSALookup: the TLSA lookup failed; Postfix skips the server (§6.1).
	CauseTLSALookup Cause = "tlsa-lookup"
	// CauseDANEUnavailable: dane-only, but the destination's DNS gives no usable DANE (§6.1).
	CauseDANEUnavailable Cause = "dane-unavailable"
	// CauseWrapperModeLevel: smtp_tls_wrappermode below level encrypt (§2.4).
	CauseWrapperModeLevel Cause = "wrappermode-level"
	// CauseConnect: the TCP connection failed; CauseConversation: it was lost or timed out.
	CauseConnect      Cause = "connect"
	CauseConversation Cause = "conversation"
	// CauseTLSEngine: Postfix's TLS engine did not start (§2.4 item 5).
	CauseTLSEngine Cause = "tls-engine"
	// CauseNoSTARTTLS: STARTTLS was not offered; CauseSTARTTLSRefused: it was refused (§3.2).
	CauseNoSTARTTLS      Cause = "starttls-not-offered"
	CauseSTARTTLSRefused Cause = "starttls-refused"
	// CauseProtocols and CauseCiphers: tls_client_start() rejected the protocol list or the
	// cipher settings and aborted the session before the handshake (§7).
	CauseProtocols Cause = "protocol-list"
	CauseCiphers   Cause = "cipher-settings"
	// CauseTLSProxy: connection reuse is on but master.cf has no tlsproxy service, so
	// smtp(8) cannot hand the session to tlsproxy(8) and the handshake fails.
	CauseTLSProxy Cause = "tlsproxy-missing"
	// CauseHandshake: the TLS handshake failed (§3.2, §3.3).
	CauseHandshake Cause = "handshake"
	// CauseAnonymous: the server sent no certificate at a level that needs one (§3.4).
	CauseAnonymous Cause = "anonymous"
	// CauseFingerprintMismatch: no pin matched; CauseFingerprintUnusable: no pin was
	// usable (§5).
	CauseFingerprintMismatch Cause = "fingerprint-mismatch"
	CauseFingerprintUnusable Cause = "fingerprint-unusable"
	// CauseTLSAMismatch: no TLSA record (or trust-anchor file entry) matched the chain (§6.4,
	// §6.5).
	CauseTLSAMismatch Cause = "tlsa-mismatch"
	// CauseNoPeerNames: the match list installs no usable name (§4.1).
	CauseNoPeerNames Cause = "no-peer-names"
	// CauseUntrustedIssuer: the chain does not end at a trusted CA (or trust anchor).
	CauseUntrustedIssuer Cause = "untrusted-issuer"
	// CauseSelfSigned: a self-signed server certificate that no CA vouches for.
	CauseSelfSigned Cause = "self-signed"
	// CauseExpired and CauseNotYetValid: a certificate of the chain is outside its dates.
	CauseExpired     Cause = "expired"
	CauseNotYetValid Cause = "not-yet-valid"
	// CauseNameMismatch: the chain is good but no certificate name matches the names the
	// level checks (§4.2, §4.3).
	CauseNameMismatch Cause = "name-mismatch"
	// CauseCertificate: another certificate verification error (ChainError.Num says which).
	CauseCertificate Cause = "certificate"
)

// causeOf maps an OpenSSL verification error to its cause.
func causeOf(num X509Error) Cause {
	switch num {
	case X509UnableToGetIssuerLocally, X509SelfSignedInChain, X509UnableToGetIssuer:
		return CauseUntrustedIssuer
	case X509DepthZeroSelfSigned:
		return CauseSelfSigned
	case X509Expired:
		return CauseExpired
	case X509NotYetValid:
		return CauseNotYetValid
	case X509HostnameMismatch, X509IPMismatch:
		return CauseNameMismatch
	case X509DANENoMatch:
		return CauseTLSAMismatch
	case X509Unspecified:
		return CauseNoPeerNames
	}
	return CauseCertificate
}
