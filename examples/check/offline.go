package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/postfixtls/postfixtls/dane"
	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// offline judges the chain in o.cert (and the TLSA records of -tlsa) as the server of the first
// next hop of o.destination would be judged, without any network: the DNS answers count as
// DNSSEC-validated, STARTTLS as offered and the handshake as completed.
func offline(ctx context.Context, s *policy.Settings, o *options) (*smtpclient.Verdict, error) {
	res, err := s.ResolveFor(ctx, o.destination, policy.RouteOptions{Sender: o.sender})
	if err != nil {
		return nil, err
	}
	if len(res.Hops) == 0 {
		return nil, fmt.Errorf("%w: %s has no next hop", policy.ErrNextHop, o.destination)
	}
	hop := res.Hops[0]
	if hop.Unix {
		return nil, fmt.Errorf("%w: LMTP over a UNIX-domain socket (%s) has no TLS to check", policy.ErrNotSMTP, hop.Nexthop)
	}
	host, noMX := strings.TrimSuffix(hop.Domain, "."), true
	if o.mx != "" {
		if !hop.MX {
			return nil, &usageError{fmt.Sprintf("-mx %s: next hop %s is not looked up in MX records (bracketed, or DNS lookups disabled)", o.mx, hop.Nexthop)}
		}
		host, noMX = strings.TrimSuffix(o.mx, "."), false
	}
	chain, err := os.ReadFile(o.cert)
	if err != nil {
		return nil, fmt.Errorf("%w: -cert: %w", verdict.ErrObservation, err)
	}
	p, err := s.PolicyFor(ctx, res.Route, hop.NextHop, host)
	if err != nil {
		return nil, err
	}
	var tlsa io.Reader
	switch {
	case len(o.tlsa) > 0:
		tlsa = strings.NewReader(strings.Join(o.tlsa, "\n"))
	case p.Level.IsDANE():
		// DANE looks for TLSA records; none were given, so none were found.
		tlsa = strings.NewReader("")
	}
	addr := ""
	if _, err := netip.ParseAddr(host); err == nil {
		addr = host
	}
	obs, err := verdict.ObservationFromFiles(verdict.ObservationFiles{Host: host, Addr: addr, Port: hop.Port,
		Chain: strings.NewReader(string(chain)), TLSA: tlsa, NoMX: noMX})
	if err != nil {
		// Name the input that is wrong: the TLSA text of -tlsa, else the chain file.
		if len(o.tlsa) > 0 && errors.Is(err, dane.ErrMalformedRecord) {
			return nil, fmt.Errorf("-tlsa: %w", err)
		}
		return nil, fmt.Errorf("%s: %w", o.cert, err)
	}
	mx := ""
	if !noMX {
		mx = host
	}
	return smtpclient.CheckObserved(ctx, s, o.destination, smtpclient.Observed{MXHost: mx, Observation: obs}, smtpclient.CheckOptions{Sender: o.sender})
}
