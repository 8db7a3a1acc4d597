package archtest

import (
	"fmt"
	"sort"
	"strings"
)

// Module is the project's module path.
const Module = "github.com/kbroker/kbroker"

// allowed lists, for every room, the project packages it may import
// directly besides model. A package missing from this table is a violation:
// adding a room means deciding its place here and in docs/ARCHITECTURE.md.
var allowed = map[string][]string{
	"cmd/kbroker": {"config", "broker"},
	"config":      {},
	"broker":      {"*"},
	"netserver":   {},
	"api":         {"netserver", "replica", "metacache", "group", "txn", "admin", "partition", "record"},
	"replica":     {"partition", "interbroker", "record"},
	"partition":   {"isr", "commitlog", "record"},
	"isr":         {},
	"logdir":      {"commitlog", "segment"},
	"commitlog":   {"segment", "record", "producer"},
	"producer":    {"record"},
	"segment":     {"record"},
	"record":      {},
	"zkmeta":      {},
	"controller":  {"zkmeta", "interbroker"},
	"metacache":   {},
	"admin":       {"zkmeta"},
	"group":       {"interbroker", "coordshard"},
	"txn":         {"interbroker", "zkmeta", "coordshard"},
	"coordshard":  {},
	"interbroker": {},
	"model":       {},
}

// hotPath rooms serve Produce and Fetch: ZooKeeper must not be reachable
// from them, even indirectly. api is on the path too, but it reaches
// zkmeta through admin (topic administration writes ZooKeeper, as in
// Kafka), so for api only the direct imports are checked (zkmeta is not in
// its allowed list).
var hotPath = []string{"netserver", "replica", "partition", "commitlog", "producer", "segment", "record"}

// exclusive external imports: only the named room may import them.
var exclusive = map[string]string{
	"github.com/spf13/viper":           "config",
	"github.com/go-zookeeper/zk":       "zkmeta",
	"github.com/IBM/sarama":            "tools", // clients belong in tools and tests
	"github.com/twmb/franz-go/pkg/kgo": "tools",
}

// Package is what the checker needs to know about a package.
type Package struct {
	Path    string   // import path
	Imports []string // direct imports (non-test)
	Deps    []string // transitive imports (non-test)
}

// room maps an import path to its room: the first path element under the
// module, or two for cmd/ and the whole path for internal/ and tools/.
func room(path string) (string, bool) {
	rel, ok := strings.CutPrefix(path, Module+"/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rel, "/")
	switch parts[0] {
	case "cmd":
		if len(parts) > 1 {
			return "cmd/" + parts[1], true
		}
	case "internal", "tools":
		return parts[0], true
	}
	return parts[0], true
}

// Check returns every rule violation in the import graph, sorted.
func Check(pkgs []Package) []string {
	var out []string
	for _, p := range pkgs {
		r, ok := room(p.Path)
		if !ok {
			continue
		}
		free := r == "internal" || r == "tools"
		rules, listed := allowed[r]
		if !listed && !free {
			out = append(out, fmt.Sprintf("%s: room %q is not in the import rules", p.Path, r))
			continue
		}
		for _, imp := range p.Imports {
			if ext, ok := exclusive[prefixOf(imp)]; ok && ext != r && !free {
				out = append(out, fmt.Sprintf("%s imports %s, which only %s may import", p.Path, imp, ext))
			}
			ir, ok := room(imp)
			if !ok {
				continue
			}
			if ir == "internal" && !free {
				out = append(out, fmt.Sprintf("%s imports test support %s", p.Path, imp))
				continue
			}
			if free || ir == r || ir == "model" || contains(rules, "*") || contains(rules, ir) {
				continue
			}
			out = append(out, fmt.Sprintf("%s (room %s) imports %s (room %s), which the rules forbid", p.Path, r, imp, ir))
		}
		if contains(hotPath, r) {
			for _, dep := range p.Deps {
				if dr, ok := room(dep); (ok && dr == "zkmeta") || prefixOf(dep) == "github.com/go-zookeeper/zk" {
					out = append(out, fmt.Sprintf("%s is on the produce/fetch path but depends on %s", p.Path, dep))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// prefixOf maps an import path to the key used in exclusive.
func prefixOf(imp string) string {
	for k := range exclusive {
		if imp == k || strings.HasPrefix(imp, k+"/") {
			return k
		}
	}
	return imp
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
