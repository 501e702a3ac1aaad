package policy

import (
	"context"
	"fmt"
	"strings"
)

// Route answers how Postfix routes a destination (trivial-rewrite's address classes and
// transport(5) lookups, simplified to what decides the SMTP next hop):
//
//   - "[host]", "[host]:port" and "host:port" are explicit next hops for default_transport.
//   - A recipient address or domain is matched against transport_maps (user@domain,
//     domain, .parent domains, then "*"); without a hit the address class decides:
//     mydestination (local), virtual_mailbox_domains, relay_domains (relay_transport),
//     otherwise default_transport. relayhost replaces the recipient domain as next hop for
//     the relay and default classes; an explicit transport:nexthop wins over both.
//
// Route is RouteFor with the null sender: sender_dependent_relayhost_maps and
// sender_dependent_default_transport_maps are asked for "<>", as Postfix asks them for a
// bounce.
func (s *Settings) Route(ctx context.Context, destination string) (*Route, error) {
	return s.RouteFor(ctx, destination, RouteOptions{})
}

// RouteOptions are the inputs of a route beyond the destination.
type RouteOptions struct {
	// Sender is the envelope sender (MAIL FROM). sender_dependent_default_transport_maps
	// (default class) and sender_dependent_relayhost_maps (relay and default classes)
	// look it up as mail_addr_find() does: the address, the address without its
	// recipient_delimiter extension, the local part when the sender's domain is local,
	// then "@domain"; an empty Sender is the null sender, looked up as "<>"
	// (empty_address_relayhost_maps_lookup_key, empty_address_default_transport_maps_lookup_key).
	Sender string
}

// RouteFor is Route for the sender opt.Sender (see RouteOptions).
func (s *Settings) RouteFor(ctx context.Context, destination string, opt RouteOptions) (*Route, error) {
	rt := &Route{Destination: destination, Sender: opt.Sender}
	d := strings.TrimSpace(destination)
	if d == "" {
		return nil, fmt.Errorf("%w: empty destination", ErrNextHop)
	}
	if err := checkDestination(d); err != nil {
		return nil, fmt.Errorf("%w: %q: %s", ErrNextHop, destination, err)
	}
	explicit := strings.HasPrefix(d, "[") || (!strings.Contains(d, "@") && strings.Contains(d, ":"))
	if explicit {
		tr, from, err := s.transportOf("default_transport")
		if err != nil {
			return nil, err
		}
		rt.Transport, rt.Nexthop = tr.transport, d
		rt.From = append(rt.From, "explicit next hop "+d+" via "+from)
		return s.finishRoute(rt)
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		rt.Recipient = d
		d = d[i+1:]
	}
	// The next hop keeps the case the recipient was written in: regexp: and pcre: policy
	// tables see it that way (real Postfix 3.7.11: a case-sensitive pattern misses
	// "EXAMPLE.Test"); fixed-string tables fold it themselves.
	asWritten := strings.TrimSuffix(d, ".")
	d = strings.ToLower(asWritten)
	if d == "" {
		return nil, fmt.Errorf("%w: no domain in %q", ErrNextHop, destination)
	}
	rt.Domain = d

	// Address class and its default transport:nexthop.
	class, err := s.addressClass(ctx, d)
	if err != nil {
		return nil, err
	}
	var tr transportSpec
	var cfrom string
	switch class {
	case "local":
		tr, cfrom, err = s.transportOf("local_transport")
	case "virtual":
		tr, cfrom, err = s.transportOf("virtual_transport")
	case "relay":
		tr, cfrom, err = s.transportOf("relay_transport")
	default:
		tr, cfrom, err = s.transportOf("default_transport")
		if err == nil {
			// resolve.c: the sender-dependent default transport replaces default_transport.
			var hit senderHit
			hit, err = s.senderLookup(ctx, "sender_dependent_default_transport_maps", "empty_address_default_transport_maps_lookup_key", opt.Sender)
			if err == nil && hit.found && !strings.EqualFold(hit.value, "DUNNO") {
				t, nh, _ := strings.Cut(hit.value, ":")
				tr, cfrom = transportSpec{t, nh}, hit.from
			}
		}
	}
	if err != nil {
		return nil, err
	}
	rt.Transport, rt.Nexthop = tr.transport, tr.nexthop
	rt.From = append(rt.From, cfrom)
	if rt.Nexthop == "" {
		rt.Nexthop = asWritten
		if class == "relay" || class == "default" {
			// resolve.c: a sender-dependent relayhost, else relayhost, else the domain.
			hit, err := s.senderLookup(ctx, "sender_dependent_relayhost_maps", "empty_address_relayhost_maps_lookup_key", opt.Sender)
			if err != nil {
				return nil, err
			}
			rh, err := s.Param("relayhost")
			if err != nil {
				return nil, err
			}
			switch {
			case hit.found && !strings.EqualFold(hit.value, "DUNNO"):
				rt.Nexthop = hit.value
				rt.From = append(rt.From, hit.from)
			case rh.Value != "":
				rt.Nexthop = rh.Value
				rt.From = append(rt.From, rh.String())
			}
		}
	}

	// transport_maps.
	hit, err := s.transportMaps(ctx, rt)
	if err != nil {
		return nil, err
	}
	if !hit && rt.Nexthop == asWritten {
		rt.From = append(rt.From, "recipient domain "+d)
	}
	return s.finishRoute(rt)
}

type transportSpec struct{ transport, nexthop string }

// checkDestination rejects what no address or next hop can be: spaces and control
// characters (outside a quoted local part), an empty local part or domain, and a domain
// that valid_hostname() refuses (in its words) and that is not an [address literal].
// Explicit next hops ("[host]", "[host]:port", "host:port") are judged by the next-hop
// parser later.
func checkDestination(d string) error {
	quoted := false
	at := -1
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case c == '"' && (i == 0 || d[i-1] != '\\'):
			quoted = !quoted
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("control character 0x%02x at byte %d", c, i)
		case (c == ' ' || c == '\t') && !quoted:
			return fmt.Errorf("space at byte %d (quote the local part if it really has one)", i)
		case c == '@' && !quoted:
			at = i
		}
	}
	if at < 0 {
		return nil // a domain or an explicit next hop
	}
	local, domain := d[:at], strings.TrimSuffix(d[at+1:], ".")
	switch {
	case local == "":
		return fmt.Errorf("empty local part before '@'")
	case domain == "":
		return fmt.Errorf("no domain after '@'")
	case strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]"):
		lit := strings.TrimPrefix(domain[1:len(domain)-1], "IPv6:")
		if !validHostAddr(lit) {
			return fmt.Errorf("%s is not an IPv4 or IPv6 address literal", domain)
		}
		return nil
	}
	if !isASCII(domain) {
		if !validUTF8Hostname(domain, true) {
			return fmt.Errorf("%q is not a valid internationalized domain name", domain)
		}
		return nil
	}
	if ok, gripe := pfValidHostname(domain); !ok {
		return fmt.Errorf("the domain is not a valid host name (%s)", gripe)
	}
	return nil
}

// senderHit is one sender-dependent lookup: the value found and where.
type senderHit struct {
	found       bool
	value, from string
}

// senderLookup asks the sender-dependent map param for sender the way mail_addr_find()
// (MA_FIND_DEFAULT) does; nullKey names the parameter that holds the null sender's key. An
// empty result is ignored, as Postfix ignores it ("ignoring null lookup result"); a lookup
// error is an ErrConfig error (Postfix defers the message).
func (s *Settings) senderLookup(ctx context.Context, param, nullKey, sender string) (senderHit, error) {
	pv, err := s.Param(param)
	if err != nil || pv.Value == "" {
		return senderHit{}, err
	}
	v, err := s.client("", SMTP)
	if err != nil {
		return senderHit{}, err
	}
	l, err := v.openListValue(ctx, param, pv.Value)
	if err != nil {
		return senderHit{}, err
	}
	type key struct {
		k     string
		fixed bool // partial keys go to fixed-string tables only
	}
	var keys []key
	if sender == "" {
		nk, err := s.Param(nullKey)
		if err != nil {
			return senderHit{}, err
		}
		keys = append(keys, key{nk.Value, false})
	} else {
		keys = append(keys, key{sender, false})
		local, domain := sender, ""
		if i := strings.LastIndexByte(sender, '@'); i >= 0 {
			local, domain = sender[:i], sender[i+1:]
		}
		if d, err := s.Param("recipient_delimiter"); err == nil && d.Value != "" {
			if i := strings.IndexAny(local, d.Value); i > 0 {
				base := local[:i]
				if domain != "" {
					base += "@" + domain
				}
				keys = append(keys, key{base, true})
				local = local[:i]
			}
		}
		if domain != "" {
			if class, err := s.addressClass(ctx, strings.ToLower(domain)); err == nil && class == "local" {
				keys = append(keys, key{local, true})
			}
			keys = append(keys, key{"@" + domain, true})
		}
	}
	for _, k := range keys {
		lookup := l.Lookup
		if k.fixed {
			lookup = l.LookupFixed
		}
		r, err := lookup(ctx, k.k)
		if err != nil {
			return senderHit{}, fmt.Errorf("%w: %s lookup failure for %q: %w", ErrConfig, param, k.k, err)
		}
		if !r.Found {
			continue
		}
		val := strings.TrimSpace(r.Value)
		if val == "" {
			return senderHit{}, nil
		}
		return senderHit{found: true, value: val, from: fmt.Sprintf("%s %s (sender %s)", param, r.Source, orNull(sender))}, nil
	}
	return senderHit{}, nil
}

// orNull renders the null sender as Postfix logs it.
func orNull(sender string) string {
	if sender == "" {
		return "<>"
	}
	return sender
}

// transportOf reads a transport:nexthop parameter such as default_transport.
func (s *Settings) transportOf(param string) (transportSpec, string, error) {
	p, err := s.Param(param)
	if err != nil {
		return transportSpec{}, "", err
	}
	t, nh, _ := strings.Cut(p.Value, ":")
	return transportSpec{t, nh}, p.String(), nil
}

// finishRoute decides which client runs the transport.
func (s *Settings) finishRoute(rt *Route) (*Route, error) {
	prog := rt.Transport
	if s.master != nil {
		if svc, ok := s.master.Service(rt.Transport, "unix"); ok {
			prog = svc.ProcessName()
		} else {
			return nil, fmt.Errorf("%w: transport %q has no master.cf service (%s)", ErrNotSMTP, rt.Transport, s.master.Name())
		}
	}
	switch prog {
	case "smtp", "relay":
		rt.Client = SMTP
	case "lmtp":
		rt.Client = LMTP
	case "local", "virtual", "pipe", "error", "discard", "retry":
		return nil, fmt.Errorf("%w: %s is delivered by the %s transport (%s)", ErrNotSMTP, rt.Destination, rt.Transport, prog)
	default:
		// Without master.cf an unknown transport name is assumed to run smtp(8).
		rt.Client = SMTP
		rt.From = append(rt.From, fmt.Sprintf("transport %q assumed to run smtp(8) (no master.cf entry read)", rt.Transport))
	}
	return rt, nil
}

// addressClass classifies the recipient domain as trivial-rewrite does.
func (s *Settings) addressClass(ctx context.Context, domain string) (string, error) {
	myhost, err := s.Param("myhostname")
	if err != nil {
		return "", err
	}
	if strings.EqualFold(domain, myhost.Value) {
		return "local", nil
	}
	for _, c := range []struct{ class, param string }{
		{"local", "mydestination"}, {"virtual-alias", "virtual_alias_domains"},
		{"virtual", "virtual_mailbox_domains"}, {"relay", "relay_domains"},
	} {
		p, err := s.Param(c.param)
		if err != nil {
			return "", err
		}
		hit, err := s.domainListMatch(ctx, c.param, p.Value, domain, c.param == "relay_domains")
		if err != nil {
			return "", err
		}
		if hit {
			if c.class == "virtual-alias" {
				return "", fmt.Errorf("%w: %s is a virtual alias domain (%s); route the rewritten address instead", ErrNotSMTP, domain, p)
			}
			return c.class, nil
		}
	}
	return "default", nil
}

// domainListMatch is a simplified match_list(3) for domain lists: names (and, when parent
// matches, their subdomains) and type:table entries looked up by domain and parents.
func (s *Settings) domainListMatch(ctx context.Context, param, list, domain string, parent bool) (bool, error) {
	for _, item := range strings.FieldsFunc(list, isListSep) {
		neg := strings.HasPrefix(item, "!")
		item = strings.TrimPrefix(item, "!")
		hit := false
		if strings.Contains(item, ":") && !strings.HasPrefix(item, "[") {
			v, err := s.client("", SMTP)
			if err != nil {
				return false, err
			}
			l, err := v.openListValue(ctx, param, item)
			if err != nil {
				return false, err
			}
			for _, k := range domainKeys(domain, parent) {
				r, err := l.Lookup(ctx, k)
				if err != nil {
					return false, fmt.Errorf("%w: %s: %w", ErrConfig, param, err)
				}
				if r.Found {
					hit = true
					break
				}
			}
		} else {
			item = strings.ToLower(strings.TrimSuffix(item, "."))
			hit = domain == item || (parent && strings.HasSuffix(domain, "."+item)) ||
				(strings.HasPrefix(item, ".") && strings.HasSuffix(domain, item))
		}
		if hit {
			return !neg, nil
		}
	}
	return false, nil
}

// domainKeys lists domain, then (with parent) each parent domain and its dotted form.
func domainKeys(domain string, parent bool) []string {
	keys := []string{domain}
	for i := 0; i < len(domain); i++ {
		if domain[i] == '.' {
			if parent {
				keys = append(keys, domain[i+1:])
			}
			keys = append(keys, domain[i:])
		}
	}
	return keys
}

// transportMaps applies transport_maps (transport(5) search order and result rules).
func (s *Settings) transportMaps(ctx context.Context, rt *Route) (bool, error) {
	tm, err := s.Param("transport_maps")
	if err != nil || tm.Value == "" {
		return false, err
	}
	v, err := s.client("", SMTP)
	if err != nil {
		return false, err
	}
	l, err := v.openListValue(ctx, "transport_maps", tm.Value)
	if err != nil {
		return false, err
	}
	var keys []string
	if rt.Recipient != "" {
		keys = append(keys, strings.ToLower(rt.Recipient))
	}
	keys = append(keys, rt.Domain)
	for i := 0; i < len(rt.Domain); i++ {
		if rt.Domain[i] == '.' {
			keys = append(keys, rt.Domain[i:])
		}
	}
	keys = append(keys, "*")
	for i, k := range keys {
		// Pattern tables (regexp, pcre) see only the full address; partial keys go to
		// fixed-string tables only, as in trivial-rewrite's transport.c.
		// The wildcard "*" is looked up in every table (transport_wildcard_init).
		lookup := l.LookupFixed
		if (i == 0 && rt.Recipient != "") || k == "*" {
			lookup = l.Lookup
		}
		r, err := lookup(ctx, k)
		if err != nil {
			return false, fmt.Errorf("%w: transport_maps lookup of %q: %w", ErrConfig, k, err)
		}
		if !r.Found {
			continue
		}
		t, nh, _ := strings.Cut(strings.TrimSpace(r.Value), ":")
		switch {
		case t == "" && nh == "":
			// "do not change"
		case t != "" && nh == "" && (t == "error" || t == "retry"):
			rt.Transport, rt.Nexthop = t, "Address is undeliverable"
		case t != "" && nh == "":
			rt.Transport, rt.Nexthop = t, rt.Domain
		case t == "":
			rt.Nexthop = nh
		default:
			rt.Transport, rt.Nexthop = t, nh
		}
		rt.From = append(rt.From, "transport_maps "+r.Source.String())
		return true, nil
	}
	return false, nil
}
