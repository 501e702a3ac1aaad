package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/verdict"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/smtpclient"
)

// offline judges the chain in o.cert (and the TLSA records of -tlsa) as the server of the first
// next hop of o.destination would be judged, without any network: the DNS answers count as
// DNSSEC-validated, STARTTLS as offered and the handshake as completed.
func offline(ctx context.Context, s *policy.Settings, o *options) (*smtpclient.Verdict, error) {
	res, err := s.Resolve(ctx, o.destination)
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
	p, err := s.PolicyFor(ctx, res.Route, hop.NextHop, host)
	if err != nil {
		return nil, err
	}
	trust, terr := loadTrust(ctx, p)
	engineDown := len(p.EngineUnavailable) > 0 || terr != nil

	chain, err := os.ReadFile(o.cert)
	if err != nil {
		return nil, fmt.Errorf("%w: -cert: %w", verdict.ErrObservation, err)
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
		return nil, fmt.Errorf("%s: %w", o.cert, err)
	}
	// The findings judge the same chain under other policies: remember signature checks.
	d := verdict.Evaluate(p, hop.NextHop, obs, verdict.EvalOptions{Version: s.Version(), Trust: trust, TLSEngineUnavailable: engineDown,
		ChainCache: &verdict.SignatureCache{}})
	conc := verdict.Conclude([]verdict.Decision{d})

	v := &smtpclient.Verdict{Destination: o.destination, Nexthop: res.Route.Nexthop, PostfixVersion: s.Version().String(),
		Policy: smtpclient.VerdictPolicy{Level: hop.Policy.Level.String(), Match: hop.Policy.Match, Source: hop.Policy.Source.String(),
			Valid: hop.Policy.Valid, Warnings: hop.Policy.Warnings},
		Outcome: string(conc.Outcome), DSN: conc.DSN, Reason: conc.Reason, Warnings: res.Warnings, Log: conc.Log,
		Findings: append([]finding.Finding{}, d.Findings...)}
	if conc.Trust != "" {
		t := conc.Trust
		v.Trust = &t
	}
	att := smtpclient.Attempt{Host: d.Host, Addr: d.Addr, Port: d.Port, Outcome: string(d.Outcome), DSN: d.DSN, Reason: d.Reason,
		Log: d.Log, Level: d.Level.String(), EffectiveLevel: d.EffectiveLevel.String(), Decision: d}
	if d.Trust != "" {
		t := d.Trust
		att.Trust = &t
	}
	v.Attempts = []smtpclient.Attempt{att}
	if terr != nil {
		v.Warnings = append(v.Warnings, terr.Error())
	}
	return v, nil
}

// loadTrust reads the CA files and trust-anchor files the policy names, from the operating
// system's files (relative names are relative to the working directory, as for Postfix's
// own processes). An error wraps verdict.ErrCAFile: Postfix's TLS engine would not start.
func loadTrust(ctx context.Context, p policy.Policy) (*verdict.Trust, error) {
	abs := func(name string) string {
		if name == "" {
			return ""
		}
		if a, err := filepath.Abs(name); err == nil {
			return a
		}
		return name
	}
	orig := p.TrustAnchorFiles
	p.CAFile, p.CAPath = abs(p.CAFile), abs(p.CAPath)
	p.TrustAnchorFiles = make([]string, len(orig))
	for i, f := range orig {
		p.TrustAnchorFiles[i] = abs(f)
	}
	// LoadTrust takes names relative to the file system's root.
	t, err := verdict.LoadTrust(ctx, os.DirFS("/"), p, nil)
	if err != nil {
		if !errors.Is(err, verdict.ErrCAFile) {
			err = fmt.Errorf("%w: %w", verdict.ErrCAFile, err)
		}
		return nil, err
	}
	// Evaluate finds trust-anchor files under the names the policy gives them.
	for i, f := range orig {
		if ta, ok := t.TrustAnchors[p.TrustAnchorFiles[i]]; ok {
			t.TrustAnchors[f] = ta
		}
	}
	return t, nil
}
