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

// readAll consumes n records of a one-partition topic from the start.
func readAll(t *testing.T, bootstrap, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kfaketest.Client(t, bootstrap, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", len(out), n)
		}
		out = append(out, f.Records()...)
	}
	return out
}

func header(r *kgo.Record) string {
	var s []string
	for _, h := range r.Headers {
		v := "<null>"
		if h.Value != nil {
			v = string(h.Value)
		}
		s = append(s, h.Key+"="+v)
	}
	return strings.Join(s, ",")
}

func nullable(b []byte) string {
	if b == nil {
		return "<null>"
	}
	return string(b)
}

func TestProduceLines(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "plain", "keyed"))
	r := kfaketest.Run(t, run, "one\ntwo\r\n\nthree", "--bootstrap-server", bs, "--topic", "plain")
	if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
		t.Fatalf("produce: %+v", r)
	}
	got := readAll(t, bs, "plain", 4)
	var values []string
	for _, rec := range got {
		if rec.Key != nil || len(rec.Headers) != 0 {
			t.Fatalf("unexpected key or headers: %+v", rec)
		}
		values = append(values, nullable(rec.Value))
	}
	if strings.Join(values, "|") != "one|two||three" {
		t.Fatalf("values %q", values)
	}

	r = kfaketest.Run(t, run, "h1:v1,h2:NULL|k1:v:1\nNULL|NULL:v2\nh3:|k3:NULL\n",
		"--bootstrap-server", bs, "--topic", "keyed", "--sync",
		"--property", "parse.key=true", "--property", "key.separator=:",
		"--property", "parse.headers=true", "--property", "headers.delimiter=|",
		"--property", "null.marker=NULL", "--request-required-acks", "1", "--timeout", "0")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("produce keyed: %+v", r)
	}
	got = readAll(t, bs, "keyed", 3)
	want := []string{
		"h1=v1,h2=<null> k1 v:1",
		" <null> v2",
		"h3= k3 <null>",
	}
	for i, rec := range got {
		if s := header(rec) + " " + nullable(rec.Key) + " " + nullable(rec.Value); s != want[i] {
			t.Errorf("record %d: %q, want %q", i, s, want[i])
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "z"))
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd", ""} {
		args := []string{"--bootstrap-server", bs, "--topic", "z", "--compression-codec"}
		if codec != "" {
			args = append(args, codec)
		}
		r := kfaketest.Run(t, run, strings.Repeat("payload-"+codec+"\n", 20), args...)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("codec %q: %+v", codec, r)
		}
	}
	got := readAll(t, bs, "z", 120)
	wantCodec := []uint8{0, 1, 2, 3, 4, 1} // a bare --compression-codec means gzip
	for i, rec := range got {
		c := wantCodec[i/20]
		if rec.Attrs.CompressionType() != c {
			t.Fatalf("record %d: codec %d, want %d", i, rec.Attrs.CompressionType(), c)
		}
	}
}

func TestProducerErrors(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "t"))
	cases := []struct {
		name, stdin string
		args        []string
		stderr      string
	}{
		{"no bootstrap", "", []string{"--topic", "t"}, "Missing required option(s) [bootstrap-server]\n"},
		{"no topic", "", []string{"--bootstrap-server", bs}, "Missing required argument \"[topic]\"\n"},
		{"unknown option", "", []string{"--bootstrap-server", bs, "--topic", "t", "--nope"}, "nope is not a recognized option\n"},
		{"bad bootstrap", "", []string{"--bootstrap-server", "localhost", "--topic", "t"},
			"Please provide valid host:port like host1:9091,host2:9092\n"},
		{"bad acks", "", []string{"--bootstrap-server", bs, "--topic", "t", "--request-required-acks", "2"},
			"Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1\n"},
		{"bad codec", "", []string{"--bootstrap-server", bs, "--topic", "t", "--compression-codec", "brotli"},
			"Invalid value brotli for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd\n"},
		{"idempotence without all", "", []string{"--bootstrap-server", bs, "--topic", "t", "--request-required-acks", "1",
			"--producer-property", "enable.idempotence=true"},
			"Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.\n"},
		{"bad linger", "", []string{"--bootstrap-server", bs, "--topic", "t", "--producer-property", "linger.ms=soon"},
			"Invalid value soon for configuration linger.ms: Not a number of type LONG\n"},
		{"equal separators", "", []string{"--bootstrap-server", bs, "--topic", "t", "--property", "headers.separator=:"},
			"headers.separator and headers.key.separator may not be equal\n"},
		{"missing key separator", "a\tb\nnokey\n", []string{"--bootstrap-server", bs, "--topic", "t", "--property", "parse.key=true"},
			"No key separator found on line number 2: 'nokey'\n"},
		{"missing header separator", "x\tv\n", []string{"--bootstrap-server", bs, "--topic", "t", "--property", "parse.headers=true"},
			"No header key separator found in pair 'x' on line number 1\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := kfaketest.Run(t, run, tc.stdin, tc.args...)
			if r.Code != 1 || r.Stdout != "" || r.Stderr != tc.stderr {
				t.Fatalf("got code %d stdout %q stderr %q, want stderr %q", r.Code, r.Stdout, r.Stderr, tc.stderr)
			}
		})
	}
	// The records before a bad line are still delivered.
	if got := readAll(t, bs, "t", 1); string(got[0].Key) != "a" || string(got[0].Value) != "b" {
		t.Fatalf("record before the bad line: %+v", got[0])
	}
}

func TestSendFailure(t *testing.T) {
	// kfake without auto-creation: the topic stays unknown and the record
	// fails after the client's unknown-topic retries.
	_, bs := kfaketest.Cluster(t)
	r := kfaketest.Run(t, run, "lost\n", "--bootstrap-server", bs, "--topic", "missing")
	const prefix = "ERROR Error when sending message to topic missing with key: null, value: 4 bytes with error: "
	if r.Code != 1 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, prefix) || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("got %+v", r)
	}
}

func TestHelpVersionAndNotes(t *testing.T) {
	r := kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "Missing required option(s) [bootstrap-server]\nOption ") {
		t.Fatalf("no args: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--help")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, helpMsg+"\n") {
		t.Fatalf("--help: %+v", r)
	}
	if r := kfaketest.Run(t, run, "", "--version"); r.Code != 0 || r.Stdout != "3.9.0\n" {
		t.Fatalf("--version: %+v", r)
	}
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "t"))
	r = kfaketest.Run(t, run, "x\n", "--broker-list", bs, "--topic", "t", "--producer-property", "partitioner.class=Custom")
	if r.Code != 0 || r.Stderr != "kafka-console-producer: note: ignoring client properties this tool does not support: partitioner.class\n" {
		t.Fatalf("note: %+v", r)
	}
}

func TestLineReader(t *testing.T) {
	lr := newLineReader(strings.NewReader("a\rb\r\nc\n\nd"))
	var got []string
	for {
		s, err := lr.next()
		if err != nil {
			break
		}
		got = append(got, s)
	}
	if strings.Join(got, "|") != "a|b|c||d" {
		t.Fatalf("lines %q", got)
	}
}
