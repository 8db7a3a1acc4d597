package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func expect(t *testing.T, r kfaketest.Result, code int, stdout, stderr string) {
	t.Helper()
	if r.Code != code || r.Stdout != stdout || r.Stderr != stderr {
		t.Fatalf("got code %d\nstdout:\n%q\nstderr:\n%q\nwant code %d\nstdout:\n%q\nstderr:\n%q",
			r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
}

// setup makes topic "t" with 12 partitions (partition p holding p records,
// timestamps 1000*p + i) and topic "u" with one partition and no records.
func setup(t *testing.T) string {
	t.Helper()
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(12, "t"), kfake.SeedTopics(1, "u"))
	cl := kfaketest.Client(t, bs, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var rs []*kgo.Record
	for p := int32(0); p < 12; p++ {
		for i := int32(0); i < p; i++ {
			rs = append(rs, &kgo.Record{Topic: "t", Partition: p, Value: []byte("x"), Timestamp: time.UnixMilli(int64(1000*p + i))})
		}
	}
	kfaketest.Produce(t, cl, rs...)
	return bs
}

func lines(topic string, parts []int, offset func(p int) int) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(topic + ":" + strconv.Itoa(p) + ":" + strconv.Itoa(offset(p)) + "\n")
	}
	return b.String()
}

// textOrder is the partitions 0..11 ordered as "t-<p>" text.
var textOrder = []int{0, 1, 10, 11, 2, 3, 4, 5, 6, 7, 8, 9}

func TestOffsets(t *testing.T) {
	bs := setup(t)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "t"),
		0, lines("t", textOrder, func(p int) int { return p }), "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "t", "--time", "-2"),
		0, lines("t", textOrder, func(int) int { return 0 }), "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "t", "--time", "earliest", "--partitions", "3,11"),
		0, "t:11:0\nt:3:0\n", "")
	// The first record at or after a timestamp; partitions without one are
	// left out (partition 5's records are 5000..5004, partition 6's 6000..).
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic-partitions", "t:5-7", "--time", "5003"),
		0, "t:5:3\nt:6:0\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic-partitions", "t:9,u", "--time", "latest"),
		0, "t:9:9\nu:0:0\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic-partitions", ":-1"),
		0, "t:0:0\nu:0:0\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "t", "--partitions", "4", "--time", "max-timestamp"),
		0, "t:4:3\n", "")
	expect(t, kfaketest.Run(t, run, "", "--broker-list", bs, "--topic", "u"), 0, "u:0:0\n", "")
}

func TestOffsetErrors(t *testing.T) {
	bs := setup(t)
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no match", []string{"--bootstrap-server", bs, "--topic", "nope"},
			"Error occurred: Could not match any topic-partitions with the specified filters\n"},
		{"bad time", []string{"--bootstrap-server", bs, "--time", "yesterday"},
			"Error occurred: Malformed time argument yesterday. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp\n"},
		{"bad partitions", []string{"--bootstrap-server", bs, "--partitions", "1,x"},
			"Error occurred: --partitions expects a comma separated list of numeric partition ids, but received: 1,x\n"},
		{"both filters", []string{"--bootstrap-server", bs, "--topic", "t", "--topic-partitions", "t:1"},
			"Error occurred: --topic-partitions cannot be used with --topic or --partitions\n"},
		{"bad rule", []string{"--bootstrap-server", bs, "--topic-partitions", "t:x"},
			"Error occurred: org.apache.kafka.tools.TerseException: Invalid rule specification: t:x\n"},
		{"no bootstrap", []string{"--topic", "t"}, "Missing required argument \"[bootstrap-server]\"\n"},
		{"bad bootstrap", []string{"--bootstrap-server", "nohost"}, "Please provide valid host:port like host1:9091,host2:9092\n"},
		{"unknown option", []string{"--bootstrap-server", bs, "--offsets"}, "Error occurred: offsets is not a recognized option\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, kfaketest.Run(t, run, "", tc.args...), 1, "", tc.stderr)
		})
	}
	r := kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, usageText+"\nOption ") {
		t.Fatalf("no args: %+v", r)
	}
}
