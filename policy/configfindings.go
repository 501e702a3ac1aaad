package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// ConfigFindings explains configuration mistakes that make an intended TLS setting not apply
// to a destination (failure-catalogue E-4 and E-5): policy rows keyed unlike the next hop
// Postfix looks up, bare keys meant for subdomains, duplicated parameters, master.cf -o
// overrides, obsolete booleans in effect, and server-side (smtpd_) parameters set where the
// client's were meant. r is what Resolve returned for the destination.
func (s *Settings) ConfigFindings(ctx context.Context, r *Resolution) []finding.Finding {
	var out []finding.Finding
	seen := map[string]bool{}
	add := func(f finding.Finding) {
		k := string(f.Code) + "\x00" + f.Summary
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	v, err := s.client(r.Route.Transport, r.Route.Client)
	if err != nil {
		return nil
	}
	st := v.static()
	if st.err != nil {
		return nil
	}
	for _, h := range r.Hops {
		for _, f := range v.keyFindings(ctx, st, r.Route, h) {
			add(f)
		}
		switch {
		case h.Policy.Source.Kind == FromLegacy && h.Policy.Level > None:
			add(finding.Finding{Code: finding.LegacyTLSParameters, Cause: "E-5",
				Summary: fmt.Sprintf("the level %s comes from the obsolete %s parameters, because %s is empty; Postfix 3.11 at compatibility_level 3.11 ignores them",
					h.Policy.Level, v.name("use_tls/")+v.name("enforce_tls"), v.name("tls_security_level")),
				Details: paramDetails(h.Policy.Source.Params),
				Fixes: []finding.Fix{{Kind: finding.FixMainCF, Key: v.name("tls_security_level"), Value: h.Policy.Level.String(),
					Note: "main.cf: say the level explicitly, then remove the obsolete booleans"}}})
		}
		for _, p := range h.Policy.Source.Params {
			if p.Origin.Kind == maincf.KindMasterCF {
				add(finding.Finding{Code: finding.MasterCFOverride, Cause: "E-5",
					Summary: fmt.Sprintf("the %s transport overrides %s in master.cf: %s", r.Route.Transport, p.Name, p),
					Details: []string{"main.cf's value does not apply to mail routed through this transport"}})
			}
		}
	}
	// Duplicated client TLS parameters in main.cf: the last one wins.
	for _, d := range s.mainDiagnostics() {
		if strings.Contains(d.Message, "overriding earlier entry") && strings.Contains(d.Message, "_tls_") {
			add(finding.Finding{Code: finding.DuplicateParameter, Cause: "E-5",
				Summary: d.Message + "; only the last setting counts",
				Fixes:   []finding.Fix{{Kind: finding.FixText, Value: "keep one line for the parameter in main.cf"}}})
		}
	}

	// smtpd_tls_* set, the client's twin not: a common mix-up.
	for _, pair := range [][2]string{{"smtpd_tls_security_level", "tls_security_level"}, {"smtpd_tls_wrappermode", "tls_wrappermode"}, {"smtpd_tls_CAfile", "tls_CAfile"}} {
		sp, _ := s.Param(pair[0])
		cp, _ := v.param(v.name(pair[1]))
		if sp.Origin.Kind != maincf.KindDefault && sp.Value != "" && (cp.Origin.Kind == maincf.KindDefault || cp.Value == "") {
			add(finding.Finding{Code: finding.ServerSideParameter, Cause: "E-5",
				Summary: fmt.Sprintf("%s is set (%s) but %s is not: smtpd_ parameters configure the SMTP server (incoming mail), not the client that delivers", pair[0], sp.Origin, v.name(pair[1])),
				Fixes:   []finding.Fix{{Kind: finding.FixMainCF, Key: v.name(pair[1]), Value: sp.Value, Note: "main.cf, if the client was meant"}}})
		}
	}
	return out
}

func paramDetails(ps []Param) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

// keyFindings looks for policy rows that were probably meant for this next hop but can
// never match the key Postfix looks up (§2.1, §2.2).
func (v *clientView) keyFindings(ctx context.Context, st *clientStatic, rt Route, h Hop) []finding.Finding {
	if st.policyMaps == "" || h.Policy.Source.Kind == FromPolicyTable {
		return nil
	}
	list, err := v.openListValue(ctx, st.policyMapsTitle, st.policyMaps)
	if err != nil {
		return nil
	}
	var out []finding.Finding
	found := func(k string) (string, bool) {
		res, err := list.Lookup(ctx, k)
		if err != nil || !res.Found {
			return "", false
		}
		return res.Value, true
	}
	// Near misses of the next-hop string: brackets, port, service name.
	host := h.Domain
	cands := []string{host, "[" + host + "]", host + ":" + h.Service, "[" + host + "]:" + h.Service}
	if h.Port > 0 {
		cands = append(cands, host+":"+itoa(h.Port), "["+host+"]:"+itoa(h.Port))
	}
	if rt.Domain != "" && rt.Domain != host {
		cands = append(cands, rt.Domain)
	}
	for _, k := range cands {
		if k == h.Key {
			continue
		}
		if val, ok := found(k); ok {
			why := fmt.Sprintf("Postfix looks up the next hop %q exactly as written (brackets and port included)", h.Key)
			if k == rt.Domain {
				why = fmt.Sprintf("mail for %s goes to the next hop %q (%s), and the table is searched with that, not with the recipient domain",
					rt.Domain, h.Key, strings.Join(rt.From, "; "))
			}
			out = append(out, finding.Finding{Code: finding.PolicyKeyMismatch, Cause: "E-4",
				Summary: fmt.Sprintf("the policy row %q (%s) never applies here: %s; the global level %s is used instead", k, val, why, h.Policy.Level),
				Fixes: []finding.Fix{{Kind: finding.FixTableRow, Table: tableOf(ctx, list, h.Key), Key: h.Key, Value: val,
					Note: "a row keyed exactly like the next hop (then postmap the table if it is indexed)"}}})
		}
	}
	// A bare parent-domain key does not cover subdomains; only ".domain" does.
	if validUTF8Hostname(h.Key, st.utf8) {
		for i := 0; i < len(h.Key); i++ {
			if h.Key[i] != '.' {
				continue
			}
			parent := h.Key[i+1:]
			if !strings.Contains(parent, ".") {
				break
			}
			if val, ok := found(parent); ok {
				out = append(out, finding.Finding{Code: finding.BareKeySubdomain, Cause: "E-4",
					Summary: fmt.Sprintf("the policy row %q (%s) matches only %s itself, not %s: a bare key gets no subdomain matches", parent, val, parent, h.Key),
					Fixes: []finding.Fix{{Kind: finding.FixTableRow, Table: tableOf(ctx, list, parent), Key: "." + parent, Value: val, Note: "covers every subdomain"},
						{Kind: finding.FixTableRow, Table: tableOf(ctx, list, parent), Key: h.Key, Value: val, Note: "covers only this next hop"}}})
				break
			}
		}
	}
	return out
}

func itoa(n int) string { return fmt.Sprint(n) }

// tableOf names the table of list that holds key (the first one, as maps_find searches).
func tableOf(ctx context.Context, list *tables.List, key string) string {
	for _, t := range list.Tables() {
		if r, err := t.Lookup(ctx, key); err == nil && r.Found {
			return t.Name()
		}
	}
	if ts := list.Tables(); len(ts) > 0 {
		return ts[0].Name()
	}
	return ""
}
