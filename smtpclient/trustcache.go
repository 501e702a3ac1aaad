package smtpclient

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/postfixtls/postfixtls/policy"
	"github.com/postfixtls/postfixtls/policy/verdict"
)

// TrustCache keeps the trust material a policy names (smtp_tls_CAfile, smtp_tls_CApath,
// tafile=) loaded across checks: a batch or a monitor parses each set of files once and
// uses it again while every file (the CAfile, the trust-anchor files, the CApath directory
// and each of its hash-named files, links followed) has the same size and modification
// time; a changed, new or removed file is read again, as a new smtp(8) process would read
// it. A load that failed is not kept: the next check tries again (a file made readable
// keeps its size and time). Set CheckOptions.TrustCache to share one between checks. It
// is safe for concurrent use; the zero value is ready.
type TrustCache struct {
	mu sync.Mutex
	m  map[string]trustEntry
}

type trustEntry struct {
	stamp string
	t     *verdict.Trust
	err   error
}

// maxTrustEntries bounds the sets of files kept (a configuration names a handful).
const maxTrustEntries = 64

// load returns the trust of p's files, from the cache while they are unchanged.
func (tc *TrustCache) load(ctx context.Context, fsys fs.FS, key string, p policy.Policy, load func() (*verdict.Trust, error)) (*verdict.Trust, error) {
	st := fileStamp(fsys, append([]string{p.CAFile, p.CAPath}, p.TrustAnchorFiles...), p.CAPath)
	tc.mu.Lock()
	e, ok := tc.m[key]
	tc.mu.Unlock()
	if ok && e.stamp == st {
		return e.t, e.err
	}
	t, err := load()
	if err != nil || ctx.Err() != nil {
		return t, err // not kept: a failure may be mended without a new stamp, and a load cut short is no answer
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.m == nil || len(tc.m) >= maxTrustEntries {
		tc.m = map[string]trustEntry{}
	}
	tc.m[key] = trustEntry{st, t, err}
	return t, err
}

// fileStamp says, for each name, its size and modification time (or why it cannot be
// read): two equal stamps mean nothing to reload.
func fileStamp(fsys fs.FS, names []string, capath string) string {
	var b strings.Builder
	if capath != "" {
		// OpenSSL opens only the hash-named files: each one's own stamp (the file a link
		// points to), so that a CA rewritten in place is read again
		var ents []fs.DirEntry
		if fsys == nil {
			ents, _ = os.ReadDir(capath)
		} else {
			ents, _ = fs.ReadDir(fsys, strings.TrimLeft(capath, "/"))
		}
		for _, e := range ents {
			if verdict.IsCAPathHashName(e.Name()) {
				names = append(names, path.Join(capath, e.Name()))
			}
		}
	}
	for _, n := range names {
		b.WriteByte(0)
		if n == "" {
			continue
		}
		var fi fs.FileInfo
		var err error
		if fsys == nil {
			fi, err = os.Stat(n)
		} else {
			fi, err = fs.Stat(fsys, strings.TrimLeft(n, "/"))
		}
		if err != nil {
			fmt.Fprintf(&b, "%s: %v", n, err)
			continue
		}
		fmt.Fprintf(&b, "%s %d %d", n, fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}
