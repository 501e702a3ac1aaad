package verdict

import (
	"context"
	"crypto/x509"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
	"github.com/postfixtls/postfixtls/policy/tables"
)

// Diagnose explains why Postfix would not deliver on this attempt (or what risk a
// delivering attempt carries) and proposes fixes. It is the one engine behind Evaluate's
// Findings, the check and explain tools and lint's advice.
//
// Findings are chosen by the Decision's Cause, never by Postfix's wording, so every release
// gets the same explanation in its own words. Fixes are typed edits of the administrator's
// own configuration: a policy table fix rewrites the row that decided (policy.Entry.Edit),
// keeping every other attribute as written, or adds a row for the next hop when the
// deciding row is a parent domain's or the global level decided. Each candidate is proven
// before it is shown: the configuration is changed as the fix says (policy.Policy.With,
// reloading the CA and trust-anchor files when the fix changes them) and the same
// Observation is judged again; a fix that does not make Postfix deliver is dropped. A
// change only the receiving side can make (a TLSA record) is proven against the
// Observation changed as the fix says. When Postfix never held the session (an invalid
// policy, a DANE skip), a fix is proven when Postfix would accept the configuration and
// get further; its Proven text says the session was not observed.
//
// Fixes that keep the level and the authentication come first; downgrades follow, each
// labelled with what it gives up (Fix.Downgrade).
func Diagnose(ctx context.Context, p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) []finding.Finding {
	opt.NoFindings = true
	e := newEvaluator(p, hop, obs, opt)
	e.run()
	return e.diagnose(ctx)
}

// Findings is Diagnose without a context.
func Findings(p policy.Policy, hop policy.NextHop, obs Observation, opt EvalOptions) []finding.Finding {
	return Diagnose(context.Background(), p, hop, obs, opt)
}

// stage orders the causes by how far the attempt got.
func stage(c Cause) int {
	switch c {
	case CauseNone:
		return 9
	case CauseDNSLookup:
		return 0
	case CauseInvalidPolicy, CauseTLSALookup, CauseDANEUnavailable, CauseWrapperModeLevel:
		return 1
	case CauseConnect, CauseConversation:
		return 2
	case CauseTLSEngine:
		return 3
	case CauseNoSTARTTLS, CauseSTARTTLSRefused:
		return 4
	case CauseProtocols, CauseCiphers:
		return 5
	case CauseHandshake:
		return 6
	case CauseRecipientRejected, CauseSenderRejected, CauseEHLORefused:
		return 8 // after a TLS session Postfix accepts
	}
	return 7
}

// sessionCut reports whether the original attempt stopped before the part of the session
// a fix would change was observed.
func (e *evaluator) sessionCut() bool {
	o := e.obs
	if e.d.Cause == CauseProtocols || e.d.Cause == CauseCiphers {
		// Postfix stopped before the handshake (its own setup): whatever a live probe saw
		// (a local abort, or a session made with other settings) is not this session.
		return true
	}
	if len(o.Chain) > 0 || o.HandshakeError != "" || o.TLSVersion != "" {
		// The handshake was observed: a fix must make this very session deliver.
		return false
	}
	return !e.d.Connected || e.d.Cause == CauseTLSEngine
}

// prove judges the attempt again with the fix applied (obs2, when not nil, is the
// observation as the receiving side's fix changes it) and records the result in fx.Proven.
func (e *evaluator) prove(ctx context.Context, fx *finding.Fix, obs2 *Observation) bool {
	opt := e.opt
	opt.NoFindings = true
	p2 := e.p
	if !fx.ReceiverSide {
		var err error
		p2, err = e.p.With(ctx, e.hop, *fx)
		if err != nil {
			return false
		}
		if trustKey(p2) != trustKey(e.p) || hasFileEdit(*fx) {
			t, err := LoadPolicyTrust(ctx, p2.FS(), p2, opt.SystemRoots)
			opt.Trust = t
			opt.TLSEngineUnavailable = err != nil || len(p2.EngineUnavailable) > 0
		} else if strings.Join(p2.EngineUnavailable, "\n") != strings.Join(e.p.EngineUnavailable, "\n") {
			// The fix changed what starts the TLS engine (a digest, a CA setting).
			loadFailed := opt.TLSEngineUnavailable && len(e.p.EngineUnavailable) == 0
			opt.TLSEngineUnavailable = loadFailed || len(p2.EngineUnavailable) > 0
		}
	}
	obs := e.obs
	if obs2 != nil {
		obs = *obs2
	}
	d2 := Evaluate(p2, e.hop, obs, opt)
	if e.sessionCut() {
		if p2.Invalid || !d2.Connected || stage(d2.Cause) <= stage(e.d.Cause) {
			return false
		}
		fx.Proven = fmt.Sprintf("Postfix %s accepts it at level %s and gets past this failure; the rest of the session was not observed, so check again after the change", e.v, d2.EffectiveLevel)
		return true
	}
	if d2.Outcome != OutcomeDeliver || !d2.Connected {
		return false
	}
	how := "delivers at " + d2.EffectiveLevel.String()
	if d2.Trust != "" {
		how += " (" + string(d2.Trust) + " TLS connection)"
	}
	fx.Proven = how + ", judged again as Postfix " + e.v.String()
	return true
}

// offer proves the fix and adds it to f when it works; it reports whether it did.
func (e *evaluator) offer(ctx context.Context, f *finding.Finding, fx finding.Fix, obs2 *Observation) bool {
	if fx.Downgrade == "" && !fx.ReceiverSide && fx.Kind == finding.FixTableRow {
		fx.Downgrade = e.downgrade(fx)
	}
	if !e.prove(ctx, &fx, obs2) {
		return false
	}
	f.Add(fx)
	return true
}

// rank puts the fixes that keep the level and the authentication first.
func rank(fs []finding.Finding) {
	for i := range fs {
		sort.SliceStable(fs[i].Fixes, func(a, b int) bool {
			return !fs[i].Fixes[a].IsDowngrade() && fs[i].Fixes[b].IsDowngrade()
		})
	}
}

// downgrade says what a table-row fix gives up against the configured level.
func (e *evaluator) downgrade(fx finding.Fix) string {
	word := strings.Fields(fx.Value)
	if len(word) == 0 {
		return ""
	}
	to, ok := policy.ParseLevel(word[0])
	if !ok {
		return ""
	}
	from := e.p.Level
	if e.p.Invalid && e.p.Entry != nil && e.p.Entry.Level != policy.LevelNotSet {
		from = e.p.Entry.Level
	}
	switch {
	case to == policy.None || (to == policy.May && !e.obs.STARTTLSOffered && !e.sessionCut()):
		if from > policy.None {
			return "delivers in plaintext"
		}
	case to == policy.May || to == policy.Encrypt:
		if from.MustMatch() {
			return "delivers without authentication"
		}
		if from == policy.Encrypt && to == policy.May {
			return "no longer requires TLS"
		}
	case to == policy.Verify && from == policy.Secure:
		return "trusts the (possibly forged) MX lookup for the names it checks"
	case to == policy.Dane && from == policy.DaneOnly:
		return "falls back to unauthenticated TLS when the destination publishes no usable TLSA records"
	case to == policy.Dane && from.IsPKIX():
		return "falls back to unauthenticated TLS when the destination stops publishing TLSA records"
	}
	return ""
}

// rowFix builds the policy table fix that gives the next hop the level (LevelNotSet: the
// level as configured) with the attributes set and removed: the deciding row rewritten
// with its other attributes kept, or a new row for the next hop.
func (e *evaluator) rowFix(level policy.Level, set []policy.Attribute, remove []string, note string) (finding.Fix, bool) {
	p := e.p
	ed := policy.RowEdit{Level: level, Set: set, Remove: remove, Version: e.v}
	fx := finding.Fix{Kind: finding.FixTableRow, Key: e.hop.Key, Note: note}
	switch {
	case p.Source.Kind == policy.FromPerSiteTable:
		// A smtp_tls_policy_maps row would make Postfix ignore smtp_tls_per_site for every
		// destination: no row fix.
		return fx, false
	case p.Source.Kind == policy.FromPolicyTable && !fixedStringTable(p.Source.Table):
		// A pattern (or static) table holds no row for this key, and editing the row that
		// matched would change every destination it covers, unless its pattern matches
		// this next hop only (/^example\.test$/): then that rule is rewritten in place.
		typ, _, _ := strings.Cut(p.Source.Table, ":")
		lp, ok := tables.ParseLiteralPattern(typ, p.Source.Raw)
		if !ok || p.Entry == nil || (typ != "regexp" && typ != "pcre") {
			return fx, false
		}
		val, err := p.Entry.Edit(ed)
		if err != nil {
			return fx, false
		}
		fx.Table, fx.Key, fx.Value, fx.Old = p.Source.Table, lp.Pattern, val, oldValue(p)
		fx.Note = strings.TrimSpace(fx.Note + fmt.Sprintf("; the rule %s in place (its pattern matches only %s)", lp.Pattern, lp.Literal))
		return fx, true
	}
	if p.Entry != nil && p.Source.Kind == policy.FromPolicyTable {
		val, err := p.Entry.Edit(ed)
		if err != nil {
			return fx, false
		}
		fx.Table, fx.Value = p.Source.Table, val
		if strings.EqualFold(p.Source.Key, e.hop.Key) {
			fx.Key = p.Source.Key
			fx.Old = oldValue(p)
		} else {
			fx.Note = strings.TrimSpace(fx.Note + fmt.Sprintf("; a row for %s only, before the row %s, which stays", e.hop.Key, p.Source.Key))
		}
		return fx, true
	}
	if ed.Level == policy.LevelNotSet {
		ed.Level = p.Level
		if p.ConfiguredLevel > policy.None {
			// A dane policy that became may keeps its configured level.
			ed.Level = p.ConfiguredLevel
		}
	}
	empty := policy.Entry{Level: policy.LevelNotSet, BadToken: -1}
	val, err := empty.Edit(ed)
	if err != nil {
		return fx, false
	}
	fx.Value = val
	fx.Note = strings.TrimSpace(fx.Note + "; a row of smtp_tls_policy_maps (add the table to main.cf if there is none)")
	return fx, true
}

// oldValue is the deciding row's value, its tokens as Postfix cut them.
func oldValue(p policy.Policy) string {
	if p.Entry == nil {
		return entryValue(p.Source.Raw)
	}
	return p.Entry.TokenText()
}

// fixedStringTable reports whether a table holds rows keyed by the next hop itself
// (texthash, inline and the indexed types), so that a row for one key can be written.
func fixedStringTable(spec string) bool {
	typ, _, _ := strings.Cut(spec, ":")
	if typ == "texthash" || typ == "inline" {
		return true
	}
	_, ok := tables.CompiledSuffix(typ)
	return ok
}

// entryValue is the value part of a row as written ("key value...").
func entryValue(raw string) string {
	raw = strings.TrimSpace(raw)
	if i := strings.IndexAny(raw, " \t"); i >= 0 {
		return strings.TrimSpace(raw[i:])
	}
	return ""
}

func attr(name, value string) []policy.Attribute {
	return []policy.Attribute{{Name: name, Value: value}}
}

func trustKey(p policy.Policy) string {
	return p.CAFile + "\x00" + p.CAPath + "\x00" + strings.Join(p.TrustAnchorFiles, "\x00") + "\x00" + fmt.Sprint(p.AppendDefaultCA)
}

func hasFileEdit(fx finding.Fix) bool {
	if fx.Kind == finding.FixFile {
		return true
	}
	for _, r := range fx.Requires {
		if hasFileEdit(r) {
			return true
		}
	}
	return false
}

// LoadPolicyTrust is LoadTrust for the names as the policy gives them: from fsys, or, when
// fsys is nil, from the operating system's files with relative names taken from the working
// directory (as Postfix, started in its queue directory, would not: give absolute names). The
// trust-anchor files are keyed by the policy's names, as Evaluate looks them up.
func LoadPolicyTrust(ctx context.Context, fsys fs.FS, p policy.Policy, system []*x509.Certificate) (*Trust, error) {
	orig := p.TrustAnchorFiles
	if fsys == nil {
		fsys = os.DirFS("/")
		abs := func(name string) string {
			if a, err := filepath.Abs(name); name != "" && err == nil {
				return a // absolute and clean
			}
			return name
		}
		p.CAFile, p.CAPath = abs(p.CAFile), abs(p.CAPath)
		p.TrustAnchorFiles = make([]string, len(orig))
		for i, f := range orig {
			p.TrustAnchorFiles[i] = abs(f)
		}
	}
	t, err := LoadTrust(ctx, fsys, p, system)
	if err != nil {
		return nil, err
	}
	for i, f := range orig {
		if ta, ok := t.TrustAnchors[p.TrustAnchorFiles[i]]; ok {
			t.TrustAnchors[f] = ta
		}
	}
	return t, nil
}

// corrections are the corrected rows for an invalid policy entry
// (policy.Entry.CorrectionFixes, shared with lint), each then proven by Diagnose.
func (e *evaluator) corrections() []finding.Fix {
	p := e.p
	if p.Entry == nil || p.Source.Kind != policy.FromPolicyTable {
		return nil
	}
	return p.Entry.CorrectionFixes(p.Source.Table, p.Source.Key, policy.EntryContext{Version: e.v, Key: p.Source.Key})
}
