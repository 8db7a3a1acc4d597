package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules checks the real import graph of the module.
func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", Module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []Package
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Deps       []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, Package{Path: p.ImportPath, Imports: p.Imports, Deps: p.Deps})
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range Check(pkgs) {
		t.Error(v)
	}
}

// TestCheckFindsViolations shows the checker catches each kind of fault.
func TestCheckFindsViolations(t *testing.T) {
	m := func(s string) string { return Module + "/" + s }
	cases := []struct {
		name string
		pkg  Package
	}{
		{"lower room imports higher", Package{Path: m("segment"), Imports: []string{m("commitlog")}}},
		{"hot path reaches zookeeper", Package{Path: m("commitlog"), Imports: []string{m("segment")}, Deps: []string{m("zkmeta")}}},
		{"viper outside config", Package{Path: m("broker"), Imports: []string{"github.com/spf13/viper"}}},
		{"zk client outside zkmeta", Package{Path: m("controller"), Imports: []string{"github.com/go-zookeeper/zk"}}},
		{"unlisted room", Package{Path: m("newroom")}},
		{"production imports test support", Package{Path: m("commitlog"), Imports: []string{m("internal/faultfs")}}},
		{"controller touches segments", Package{Path: m("controller"), Imports: []string{m("segment")}}},
	}
	for _, c := range cases {
		if got := Check([]Package{c.pkg}); len(got) == 0 {
			t.Errorf("%s: no violation reported", c.name)
		}
	}
	ok := []Package{
		{Path: m("commitlog"), Imports: []string{m("segment"), m("record"), m("model"), "github.com/rs/zerolog"}},
		{Path: m("internal/faultfs"), Imports: []string{m("segment")}},
		{Path: m("tools/kafka-dump-log"), Imports: []string{m("segment"), "github.com/IBM/sarama"}},
	}
	if got := Check(ok); len(got) != 0 {
		t.Errorf("allowed imports reported: %v", got)
	}
}
