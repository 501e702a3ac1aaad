package verdict

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/postfixtls/postfixtls/policy"
)

// The answers are those the real postfix-mta-sts-resolver 1.1.2 gave in the conformance
// cases mta-sts/* (internal/conformance).
func TestSocketmapOrigin(t *testing.T) {
	sm := func(raw string) policy.Source {
		return policy.Source{Kind: policy.FromPolicyTable, Table: "socketmap:inet:127.0.0.1:8461:postfix", Key: "example.test", Raw: raw}
	}
	for _, c := range []struct {
		src    policy.Source
		mtasts bool
		empty  bool
	}{
		{sm("OK secure match=mx.other.test servername=hostname"), true, false},
		{sm("OK secure match=.example.test:mx.other.test"), true, false},
		{sm("OK secure match=mx.example.test servername=mx.example.test"), false, false},
		{sm("OK verify match=mx.example.test"), false, false},
		{sm("OK secure"), false, false},
		{sm("OK secure match="), false, false},
		{sm("OK secure match=a ciphers=high servername=hostname"), false, false},
		{sm(""), false, true},
		{policy.Source{Kind: policy.FromPolicyTable, Table: "texthash:/etc/postfix/tls_policy", Key: "example.test",
			Raw: "example.test secure match=mx.example.test servername=hostname"}, false, true},
		{policy.Source{Kind: policy.FromGlobal}, false, true},
	} {
		o := socketmapOrigin(c.src)
		if c.empty {
			assert.Empty(t, o, c.src.Raw)
			continue
		}
		assert.Contains(t, o, "policy from socketmap:inet:127.0.0.1:8461:postfix", c.src.Raw)
		assert.Contains(t, o, c.src.Raw)
		assert.Equal(t, c.mtasts, strings.Contains(o, "this is an MTA-STS policy"), c.src.Raw)
		if c.mtasts {
			assert.Contains(t, o, "https://mta-sts.example.test/.well-known/mta-sts.txt")
		}
	}
}
