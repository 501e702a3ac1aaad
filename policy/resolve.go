package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/postfixtls/postfixtls/internal/pfutil"
	"github.com/postfixtls/postfixtls/policy/maincf"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// ErrNotSMTP is wrapped when a destination is not delivered by the SMTP or LMTP client at
// all (local delivery, a pipe, error: or discard: transports).
var ErrNotSMTP = errors.New("not delivered by the Postfix SMTP/LMTP client")

// Route is how Postfix would route a destination: the transport and the next-hop string the
// queue manager hands to the SMTP or LMTP client, and where that came from.
type Route struct {
	// Destination is the input as given.
	Destination string `json:"destination"`
	// Sender is the envelope sender the route was computed for ("" is the null sender).
	Sender string `json:"sender,omitempty"`
	// Recipient is the recipient address when one was given.
	Recipient string `json:"recipient,omitempty"`
	// Domain is the recipient domain (empty when the destination was an explicit next hop).
	Domain string `json:"domain,omitempty"`
	// Transport is the master.cf service that delivers ("smtp", "relay", "lmtp", ...).
	Transport string `json:"transport"`
	// Client is the program behind it: smtp or lmtp.
	Client Client `json:"client"`
	// Nexthop is the next-hop string (possibly a list) the client receives.
	Nexthop string `json:"nexthop"`
	// From says what decided transport and next hop, e.g. "transport_maps
	// texthash:/etc/postfix/transport:3: example.com smtp:[relay.example]" or
	// "relayhost = [relay.example]:587 (/etc/postfix/main.cf:20)".
	From []string `json:"from"`
}

// Hop is one element of the next-hop list (plus fallback relays) with its TLS policy.
type Hop struct {
	NextHop
	Policy Policy `json:"policy"`
}

// Resolution is the answer of Resolve.
type Resolution struct {
	Route Route `json:"route"`
	// Hops lists every next hop in the order the client tries them.
	Hops []Hop `json:"hops"`
	// Warnings are configuration warnings that are not tied to one hop (e.g.
	// "smtp_tls_per_site ignored when smtp_tls_policy_maps is not empty.").
	Warnings []string `json:"warnings,omitempty"`
}

// Resolve answers, for a destination (recipient address, domain, "[host]", "[host]:port" or
// "host:port"), how Postfix routes it and which TLS policy each next hop gets. The policy is
// the next-hop policy: for a host-specific answer (per-site host entries, the hostname match
// strategy, DANE) call PolicyFor with the server's host name.
func (s *Settings) Resolve(ctx context.Context, destination string) (*Resolution, error) {
	return s.ResolveFor(ctx, destination, RouteOptions{})
}

// ResolveFor is Resolve for the envelope sender of opt (sender-dependent routing; see
// RouteOptions).
func (s *Settings) ResolveFor(ctx context.Context, destination string, opt RouteOptions) (*Resolution, error) {
	rt, err := s.RouteFor(ctx, destination, opt)
	if err != nil {
		return nil, err
	}
	v, err := s.client(rt.Transport, rt.Client)
	if err != nil {
		return nil, err
	}
	hops, err := v.hops(rt.Nexthop)
	if err != nil {
		return nil, err
	}
	res := &Resolution{Route: *rt}
	res.Warnings = append(res.Warnings, v.static().perSiteWarnings...)
	for _, h := range hops {
		host := ""
		if !h.MX {
			host = h.Domain
		}
		p, err := v.policy(ctx, h, host, false)
		if err != nil {
			return nil, err
		}
		p.from = &policyFrom{s: s, route: *rt, host: host}
		res.Hops = append(res.Hops, Hop{NextHop: h, Policy: p})
	}
	// Problems Postfix reports when it opens the tables (malformed lines, duplicates).
	res.Warnings = append(res.Warnings, s.tableDiagnostics()...)
	return res, nil
}

// PolicyFor computes the policy for one server of a next hop, as smtp(8) does when it is
// about to connect to host (the MX exchange name, or the next-hop domain for [host] and
// A-record fallback). The route gives the transport (for master.cf overrides).
func (s *Settings) PolicyFor(ctx context.Context, rt Route, hop NextHop, host string) (Policy, error) {
	from := &policyFrom{s: s, route: rt, host: host}
	v, err := s.client(rt.Transport, rt.Client)
	if err != nil {
		p := errorPolicy()
		p.from = from
		return p, err
	}
	p, err := v.policy(ctx, hop, host, false)
	p.from = from
	return p, err
}

// tableDiagnostics collects the open-time diagnostics of every table opened so far, once each.
func (s *Settings) tableDiagnostics() []string {
	s.mu.Lock()
	views := make([]*clientView, 0, len(s.views))
	for _, v := range s.views {
		views = append(views, v)
	}
	s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, v := range views {
		v.mu.Lock()
		for _, l := range v.lists {
			for _, d := range l.Diagnostics() {
				msg := d.String()
				if !seen[msg] {
					seen[msg] = true
					out = append(out, msg)
				}
			}
		}
		v.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// clientView is the configuration as one transport's client process sees it: main.cf, that
// service's master.cf -o overrides, and the explicit overrides.
type clientView struct {
	s       *Settings
	conf    *maincf.Config
	client  Client
	service string
	mu      sync.Mutex
	lists   map[string]*tables.List
	params  map[string]paramResult // expanded parameters (Settings never change)

	staticOnce sync.Once
	st         *clientStatic

	policyList atomic.Pointer[tables.List] // smtp_tls_policy_maps, once opened
	entries    map[string]*Entry           // memo of parsed policy values (see parseEntry)
	fpChecks   map[*Entry]fpCheck          // memo of fingerprint list checks (nil key: main.cf)
}

type paramResult struct {
	p   Param
	err error
}

func (s *Settings) client(transport string, c Client) (*clientView, error) {
	if c == "" {
		c = SMTP
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := viewKey{transport, c}
	if v, ok := s.views[key]; ok {
		return v, nil
	}
	var svc *maincf.Service
	if s.master != nil {
		if sv, ok := s.master.Service(transport, "unix"); ok {
			svc = sv
		}
	}
	v := &clientView{s: s, conf: s.config(svc), client: c, service: transport, lists: map[string]*tables.List{}}
	if s.views == nil {
		s.views = map[viewKey]*clientView{}
	}
	s.views[key] = v
	return v, nil
}

// name returns the client's parameter name for a suffix: "smtp_tls_ciphers".
func (v *clientView) name(suffix string) string { return string(v.client) + "_" + suffix }

// param returns an expanded parameter, computed once per view.
func (v *clientView) param(name string) (Param, error) {
	v.mu.Lock()
	r, ok := v.params[name]
	v.mu.Unlock()
	if ok {
		return r.p, r.err
	}
	p, err := paramOf(v.conf, name)
	v.mu.Lock()
	if v.params == nil {
		v.params = map[string]paramResult{}
	}
	v.params[name] = paramResult{p, err}
	v.mu.Unlock()
	return p, err
}

func (v *clientView) get(suffix string) (string, error) {
	p, err := v.param(v.name(suffix))
	return p.Value, err
}

// boolParam reads a Postfix boolean: "yes" or "no" in any ASCII case; anything else is
// Postfix's fatal "bad boolean configuration" (mail_conf_bool.c).
func (v *clientView) boolParam(name string) (bool, error) {
	p, err := v.param(name)
	if err != nil {
		return false, err
	}
	b, err := pfutil.Bool(name, p.Value)
	if err != nil {
		return false, &ParamError{Param: p, Text: err.Error(), Err: err}
	}
	return b, nil
}

// hops splits the next-hop list, appends the fallback relays (SMTP) and parses each element.
func (v *clientView) hops(nexthop string) ([]NextHop, error) {
	defService, err := v.get("tcp_port")
	if err != nil {
		return nil, err
	}
	st := v.static()
	if st.err != nil {
		return nil, st.err
	}
	dnsOn := st.dns
	myhost, err := v.param("myhostname")
	if err != nil {
		return nil, err
	}
	utf8, err := v.boolParamDefault("smtputf8_enable", false)
	if err != nil {
		return nil, err
	}
	opt := NextHopOptions{DefaultService: defService, MyHostname: myhost.Value, DNS: dnsOn, SMTPUTF8: utf8}
	sites := SplitNextHopList(nexthop)
	if len(sites) == 0 {
		return nil, fmt.Errorf("%w: null destination: %q", ErrNextHop, nexthop)
	}
	primary := len(sites)
	if v.client == SMTP {
		fb, err := v.get("fallback_relay")
		if err != nil {
			return nil, err
		}
		sites = append(sites, SplitNextHopList(fb)...)
	}
	out := make([]NextHop, 0, len(sites))
	for i, site := range sites {
		h, err := ParseNextHop(v.client, site, opt)
		if err != nil {
			return nil, err
		}
		h.Fallback = i >= primary
		out = append(out, h)
	}
	return out, nil
}

func (v *clientView) boolParamDefault(name string, def bool) (bool, error) {
	if _, ok := v.conf.Raw(name); !ok {
		return def, nil
	}
	return v.boolParam(name)
}

func hasWord(list, w string) bool {
	for _, f := range strings.FieldsFunc(list, isListSep) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

func isListSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// globalLevel computes the global level as smtp(8) does (smtp.c and global_tls_level()).
func (v *clientView) globalLevel() (Level, Source, error) {
	lp, err := v.param(v.name("tls_security_level"))
	if err != nil {
		return LevelNotSet, Source{}, err
	}
	if lp.Value != "" {
		l, ok := ParseLevel(lp.Value)
		if !ok {
			return LevelNotSet, Source{}, &ParamError{Param: lp, Text: fmt.Sprintf("Invalid TLS level \"%s\"", lp.Value)}
		}
		return l, Source{Kind: FromGlobal, Params: []Param{lp}}, nil
	}
	src := Source{Kind: FromLegacy, Params: []Param{lp}}
	enforce, err := v.boolParam(v.name("enforce_tls"))
	if err != nil {
		return LevelNotSet, src, err
	}
	ep, _ := v.param(v.name("enforce_tls"))
	src.Params = append(src.Params, ep)
	if enforce {
		peer, err := v.boolParam(v.name("tls_enforce_peername"))
		if err != nil {
			return LevelNotSet, src, err
		}
		pp, _ := v.param(v.name("tls_enforce_peername"))
		src.Params = append(src.Params, pp)
		if peer {
			return Verify, src, nil
		}
		return Encrypt, src, nil
	}
	use, err := v.boolParam(v.name("use_tls"))
	if err != nil {
		return LevelNotSet, src, err
	}
	up, _ := v.param(v.name("use_tls"))
	src.Params = append(src.Params, up)
	if use {
		return May, src, nil
	}
	return None, src, nil
}

// openListValue opens (once per view) a table list with the given title and value. Tables
// are opened as smtp(8) and trivial-rewrite open them: fixed-string keys folded, UTF-8
// checks when smtputf8_enable is on.
func (v *clientView) openListValue(ctx context.Context, title, value string) (*tables.List, error) {
	utf8, _ := v.boolParamDefault("smtputf8_enable", false)
	v.mu.Lock()
	defer v.mu.Unlock()
	key := title + "\x00" + value
	if l, ok := v.lists[key]; ok {
		return l, nil
	}
	l, err := v.s.openList(ctx, title, value, utf8)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, title, err)
	}
	v.lists[key] = l
	return l, nil
}
