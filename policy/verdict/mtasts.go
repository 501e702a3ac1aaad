package verdict

import (
	"fmt"
	"strings"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/finding"
)

// socketmapOrigin says, for findings, that the policy came from a socketmap server and, when
// the answer has the form postfix-mta-sts-resolver gives ("OK secure match=<mx patterns>"
// with at most servername=hostname besides), that it is an MTA-STS policy (RFC 8461): the
// match list is the mx: lines of https://mta-sts.<key>/.well-known/mta-sts.txt. It returns
// "" for a policy that did not come from a socketmap entry.
func socketmapOrigin(s policy.Source) string {
	if s.Kind != policy.FromPolicyTable || !strings.HasPrefix(s.Table, "socketmap:") || s.Raw == "" {
		return ""
	}
	msg := fmt.Sprintf("policy from %s: for the key %q the socketmap server answered %q", s.Table, s.Key, s.Raw)
	if !mtastsAnswer(s.Raw) {
		return msg
	}
	domain := strings.TrimPrefix(s.Key, ".")
	return msg + fmt.Sprintf("; this is an MTA-STS policy (the answer of an MTA-STS resolver such as postfix-mta-sts-resolver):"+
		" the match list holds the mx: patterns of https://mta-sts.%s/.well-known/mta-sts.txt (\"*.\" written \".\"),"+
		" published because _mta-sts.%s has a v=STSv1 TXT record; Postfix enforces it as a secure row."+
		" To change it, the domain's MTA-STS policy must change (or a row for %s must come before the socketmap in smtp_tls_policy_maps)",
		domain, domain, domain)
}

// mtastsAnswer reports that a socketmap reply has the form of postfix-mta-sts-resolver's:
// "OK secure match=..." and at most "servername=hostname" besides.
func mtastsAnswer(raw string) bool {
	f := strings.Fields(strings.TrimPrefix(raw, "OK "))
	if len(f) < 2 || len(f) > 3 || f[0] != "secure" || !strings.HasPrefix(f[1], "match=") || len(f[1]) == len("match=") {
		return false
	}
	return len(f) == 2 || f[2] == "servername=hostname"
}

// addOrigin adds the socketmap (MTA-STS) origin of the policy to every finding that does not
// already say it.
func (e *evaluator) addOrigin(out []finding.Finding) {
	o := socketmapOrigin(e.p.Source)
	if o == "" {
		return
	}
	for i := range out {
		out[i].Details = append(out[i].Details, o)
	}
}
