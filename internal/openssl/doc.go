// Package openssl models the parts of OpenSSL 3.0 and of Postfix's TLS library
// (src/tls/tls_misc.c, tls_client.c, tls_verify.c) that more than one package of this
// module needs, so that each rule has exactly one implementation:
//
//   - [Errno]: the X509_V_ERR_* verification error numbers with OpenSSL 3.0's texts
//     (X509_verify_cert_error_string) and the line Postfix's tls_log_verify_error logs
//     for each ([Errno.LogLine]).
//   - [Issued], [SelfIssued], [IsCA]: X509_check_issued's name and key-identifier test and
//     X509_check_ca as chain verification applies them.
//   - [ParseProtocols]: tls_proto_mask_lims(), Postfix's protocol list ("!SSLv2, !SSLv3",
//     "TLSv1.2:TLSv1.3", ">=TLSv1.2") with the release each form appeared in.
//   - [GradeCipherList] and [NewSetup]: the OpenSSL cipher string Postfix composes from a
//     grade and exclusions, which suites OpenSSL 3.0 enables for it, which protocol versions
//     it enables, and Postfix's warning when tls_client_start() aborts the TLS session
//     before the handshake.
//
// The package is internal: policy/verdict (the evaluator), dane and smtpclient import it,
// and their exported types carry its results.
package openssl
