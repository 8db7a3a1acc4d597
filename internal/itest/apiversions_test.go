package itest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// zk39Versions is the ApiVersions table of Kafka 3.9 in ZooKeeper mode
// (wire-protocol.md §4, column 3.9): key → [min, max].
var zk39Versions = map[int16][2]int16{
	0: {0, 11}, 1: {0, 17}, 2: {0, 9}, 3: {0, 12}, 4: {0, 7}, 5: {0, 4}, 6: {0, 8}, 7: {0, 3},
	8: {0, 9}, 9: {0, 9}, 10: {0, 6}, 11: {0, 9}, 12: {0, 4}, 13: {0, 5}, 14: {0, 5}, 15: {0, 5},
	16: {0, 5}, 17: {0, 1}, 18: {0, 4}, 19: {0, 7}, 20: {0, 6}, 21: {0, 2}, 22: {0, 5}, 23: {0, 4},
	24: {0, 5}, 25: {0, 4}, 26: {0, 4}, 27: {0, 1}, 28: {0, 4}, 29: {0, 3}, 30: {0, 3}, 31: {0, 3},
	32: {0, 4}, 33: {0, 2}, 34: {0, 2}, 35: {0, 4}, 36: {0, 2}, 37: {0, 3}, 38: {0, 3}, 39: {0, 2},
	40: {0, 2}, 41: {0, 3}, 42: {0, 2}, 43: {0, 2}, 44: {0, 1}, 45: {0, 0}, 46: {0, 0}, 47: {0, 0},
	48: {0, 1}, 49: {0, 1}, 50: {0, 0}, 51: {0, 0}, 56: {0, 3}, 57: {0, 1}, 58: {0, 0}, 60: {0, 1},
	61: {0, 0}, 65: {0, 0}, 66: {0, 1}, 67: {0, 0}, 68: {0, 0}, 69: {0, 0},
}

// implementedKeys reads the keys of the versions table in
// api/18_api_versions.go: the keys the broker implements.
func implementedKeys(t testing.TB) []int16 {
	t.Helper()
	root, err := testcluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "api", "18_api_versions.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []int16
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "versions" || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		for _, e := range lit.Elts {
			kv, ok := e.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			bl, ok := kv.Key.(*ast.BasicLit)
			if !ok {
				continue
			}
			k, err := strconv.ParseInt(bl.Value, 0, 16)
			if err != nil {
				t.Fatalf("%s: key %s", path, bl.Value)
			}
			keys = append(keys, int16(k))
		}
		return false
	})
	if len(keys) == 0 {
		t.Fatalf("%s: found no versions table", path)
	}
	slices.Sort(keys)
	return keys
}

// wantVersions renders the expected table for the implemented keys.
func wantVersions(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, k := range implementedKeys(t) {
		r, ok := zk39Versions[k]
		if !ok {
			t.Errorf("the broker implements key %d (%s), which a Kafka 3.9 ZooKeeper broker does not advertise", k, kmsg.NameForKey(k))
			continue
		}
		out = append(out, fmt.Sprintf("%d:%d-%d", k, r[0], r[1]))
	}
	return out
}

func renderKeys(keys []kmsg.ApiVersionsResponseApiKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%d:%d-%d", k.ApiKey, k.MinVersion, k.MaxVersion)
	}
	return out
}

func TestApiVersions(t *testing.T) {
	c := newCluster(t, 3, nil)
	want := wantVersions(t)

	// Every version of the request, raw, to every broker: the same table,
	// in key order.
	for v := int16(0); v <= 4; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			for _, b := range c.Brokers() {
				req := kmsg.NewPtrApiVersionsRequest()
				req.Version = v
				req.ClientSoftwareName, req.ClientSoftwareVersion = "kbroker-itest", "0.1.0"
				resp, err := oneRequest(b.Addr(), req)
				if err != nil {
					t.Fatalf("broker %d: %v", b.ID(), err)
				}
				r := resp.(*kmsg.ApiVersionsResponse)
				if got := renderKeys(r.ApiKeys); r.ErrorCode != 0 || !slices.Equal(got, want) {
					t.Errorf("broker %d, ApiVersions v%d: error %d, table\n%v\nwant\n%v", b.ID(), v, r.ErrorCode, got, want)
				}
				if v >= 1 && r.ThrottleMillis != 0 {
					t.Errorf("broker %d: throttle %d", b.ID(), r.ThrottleMillis)
				}
			}
		})
	}

	// franz-go negotiates (it starts above the broker's maximum and
	// falls back) and reads the same table.
	t.Run("kadm", func(t *testing.T) {
		adm := newAdmin(t, c)
		all, err := adm.ApiVersions(testCtx(t, waitLong))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 {
			t.Fatalf("answers from %d brokers", len(all))
		}
		for id, bv := range all {
			if bv.Err != nil {
				t.Errorf("broker %d: %v", id, bv.Err)
				continue
			}
			var got []string
			bv.EachKeySorted(func(key, min, max int16) {
				got = append(got, fmt.Sprintf("%d:%d-%d", key, min, max))
			})
			if !slices.Equal(got, want) {
				t.Errorf("broker %d via kadm:\n%v\nwant\n%v", id, got, want)
			}
		}
	})

	// librdkafka logs the table it parsed (debug=feature).
	t.Run("kcat", func(t *testing.T) {
		re := regexp.MustCompile(`ApiKey \S+ \((\d+)\) Versions (\d+)\.\.(\d+)`)
		for _, b := range c.Brokers() {
			_, stderr := kcat(t, "", "-b", b.Addr(), "-L", "-X", "debug=feature", "-m", "30")
			var got []string
			seen := map[string]bool{}
			for _, m := range re.FindAllStringSubmatch(stderr, -1) {
				e := fmt.Sprintf("%s:%s-%s", m[1], m[2], m[3])
				if !seen[e] { // one table per connection
					seen[e] = true
					got = append(got, e)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("broker %d via librdkafka:\n%v\nwant\n%v", b.ID(), got, want)
			}
		}
	})
}
