package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestArguments(t *testing.T) {
	if r := kfaketest.Run(t, run, "", "--version"); r.Code != 0 || r.Stdout != "3.9.0\n" {
		t.Fatalf("--version: %+v", r)
	}
	cases := map[string][]string{
		"kafka-transactions.sh: error: argument --bootstrap-server is required\n":                                          {"list"},
		"kafka-transactions.sh: error: argument --topic is required\n":                                                     {"--bootstrap-server", "h:1", "describe-producers", "--partition", "0"},
		"kafka-transactions.sh: error: argument --partition: could not convert 'x' to Integer (For input string: \"x\")\n": {"--bootstrap-server", "h:1", "abort", "--topic", "t", "--partition", "x"},
	}
	for want, args := range cases {
		if r := kfaketest.Run(t, run, "", args...); r.Code != 1 || r.Stderr != want {
			t.Fatalf("%q: %+v, want %q", args, r, want)
		}
	}
}

func TestPrintTable(t *testing.T) {
	var b strings.Builder
	printTable(&b, []string{"A", "Long"}, [][]string{{"xyz", "1"}})
	if want := "A  \tLong\t\nxyz\t1   \t\n"; b.String() != want {
		t.Fatalf("%q, want %q", b.String(), want)
	}
}

func TestAgainstKfake(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "t"))
	cl := kfaketest.Client(t, bs, kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("t"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pid, _, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "list")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "TransactionalId\tCoordinator\tProducerId") || !strings.Contains(r.Stdout, "tx-1") {
		t.Fatalf("list: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "describe", "--transactional-id", "tx-1")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "CoordinatorId\tTransactionalId\t") || !strings.Contains(r.Stdout, "t-0") {
		t.Fatalf("describe: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "describe-producers", "--topic", "t", "--partition", "0")
	lines := strings.Split(r.Stdout, "\n")
	if r.Code != 0 || len(lines) < 2 || !strings.HasPrefix(lines[0], "ProducerId") {
		t.Fatalf("describe-producers: %+v", r)
	}
	t.Logf("pid %d\n%s", pid, r.Stdout)
}
