package policy

import (
	_ "embed"
	"fmt"
	"path/filepath"
	"strings"
)

// paramNames lists the parameters of Postfix 3.7.11 (postconf -d), one name a line, after
// '#' comment lines.
//
//go:embed paramnames.txt
var paramNames string

// perTransportSuffix reports the per-transport parameters postconf knows for every master.cf
// service ("relay_destination_concurrency_limit"): default_<suffix> is the global one.
func perTransportSuffix(name string) bool {
	switch name {
	case "delivery_slot_cost", "delivery_slot_discount", "delivery_slot_loan",
		"destination_concurrency_failed_cohort_limit", "destination_concurrency_limit",
		"destination_concurrency_negative_feedback", "destination_concurrency_positive_feedback",
		"destination_rate_delay", "destination_recipient_limit", "extra_recipient_limit",
		"initial_destination_concurrency", "minimum_delivery_slots", "recipient_limit",
		"recipient_refill_delay", "recipient_refill_limit", "transport_rate_delay":
		return true
	}
	return false
}

// knownListed reports a name in paramNames.
func knownListed(name string) bool {
	if name == "" || strings.ContainsAny(name, "\n#") {
		return false
	}
	i := strings.Index(paramNames, "\n"+name+"\n")
	return i >= 0
}

// KnownParameter reports whether Postfix release v knows the main.cf parameter name, as
// postconf decides before it warns "unused parameter": the parameters of Postfix 3.7.11,
// the client parameters this module knows for v (BuiltinDefault, which has the newer
// releases' ones), and the per-transport parameters of the given master.cf services
// ("relay_destination_concurrency_limit"). A name that is only referenced as $name
// elsewhere is not counted here.
func KnownParameter(v Version, name string, services []string) bool {
	if knownListed(name) {
		return true
	}
	if _, ok := BuiltinDefault(v, name); ok {
		return true
	}
	for _, svc := range services {
		if rest, ok := strings.CutPrefix(name, svc+"_"); ok && perTransportSuffix(rest) {
			return true
		}
	}
	return false
}

// OverrideWarnings returns postconf's warning for each LoadOptions.Overrides setting whose
// name Postfix does not know (KnownParameter, with the master.cf services), in its words
// without the "postconf: warning: " prefix: "/etc/postfix/main.cf: unused parameter:
// smtp_tls_security_levle=secure". Such a setting changes nothing, as in Postfix.
func (s *Settings) OverrideWarnings() []string {
	var services []string
	for _, svc := range s.Services() {
		services = append(services, svc.Name)
	}
	return OverrideWarnings(s.version, s.dir, s.opt.Overrides, services)
}

// OverrideWarnings is Settings.OverrideWarnings for tools that hold no Settings: the
// warnings for the "name=value" overrides under release v, configuration directory dir
// ("" is /etc/postfix) and the given master.cf service names.
func OverrideWarnings(v Version, dir string, overrides, services []string) []string {
	if dir == "" {
		dir = "/etc/postfix"
	} else if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	var out []string
	for _, o := range overrides {
		name, value, ok := strings.Cut(o, "=")
		name = strings.TrimSpace(name)
		if !ok || KnownParameter(v, name, services) {
			continue
		}
		out = append(out, fmt.Sprintf("%s/main.cf: unused parameter: %s=%s", dir, name, strings.TrimSpace(value)))
	}
	return out
}
