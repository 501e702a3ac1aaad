package smtpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// OfflineInput is what an administrator saved of a server: its certificate chain (as
// posttls-finger -cC or openssl s_client -showcerts print it), its TLSA records, and the MX
// host name it answers for.
type OfflineInput struct {
	// Chain is the PEM chain, leaf first.
	Chain []byte
	// ChainName names the chain in errors (a file name); empty means "chain".
	ChainName string
	// TLSA are TLSA records in presentation form ("3 1 1 ab12..."). None given means none
	// were found, which is what a DANE policy then sees.
	TLSA []string
	// MXHost is the MX host the chain belongs to; empty means none: the next hop's own name
	// (a domain without MX records, or a [bracketed] next hop).
	MXHost string
}

// CheckOffline judges a saved chain as the server of destination's first next hop would be
// judged, with no network: DNS answers count as DNSSEC-validated, STARTTLS as offered and
// the handshake as completed; the address, protocol and cipher are not observed. It is
// CheckObserved with the Observation read from in. A malformed chain or TLSA record is an
// error wrapping verdict.ErrObservation.
func CheckOffline(ctx context.Context, s *policy.Settings, destination string, in OfflineInput, opt CheckOptions) (*Verdict, error) {
	res, hop, host, err := observedHop(ctx, s, destination, in.MXHost, opt.Sender)
	if err != nil {
		return nil, err
	}
	noMX := in.MXHost == ""
	p, err := s.PolicyFor(ctx, res.Route, hop.NextHop, host)
	if err != nil {
		return nil, err
	}
	var tlsa io.Reader
	switch {
	case len(in.TLSA) > 0:
		tlsa = strings.NewReader(strings.Join(in.TLSA, "\n"))
	case p.Level.IsDANE():
		// DANE looks for TLSA records; none were given, so none were found.
		tlsa = strings.NewReader("")
	}
	addr := ""
	if _, err := netip.ParseAddr(host); err == nil {
		addr = host
	}
	obs, err := verdict.ObservationFromFiles(verdict.ObservationFiles{Host: host, Addr: addr, Port: hop.Port,
		Chain: strings.NewReader(string(in.Chain)), TLSA: tlsa, NoMX: noMX})
	if err != nil {
		// Name the input that is wrong: the TLSA records, else the chain.
		if len(in.TLSA) > 0 && errors.Is(err, dane.ErrMalformedRecord) {
			return nil, fmt.Errorf("TLSA: %w", err)
		}
		name := in.ChainName
		if name == "" {
			name = "chain"
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	mx := ""
	if !noMX {
		mx = host
	}
	return CheckObserved(ctx, s, destination, Observed{MXHost: mx, Observation: obs}, opt)
}
