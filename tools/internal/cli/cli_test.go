package cli

import (
	"context"
	"strings"
	"testing"
)

var testParser = &Parser{Specs: []Spec{
	{Name: "topic", Arg: RequiredArg},
	{Name: "topic-id", Arg: RequiredArg},
	{Name: "partitions", Arg: RequiredArg, Type: "Integer"},
	{Name: "list"},
	{Name: "codec", Arg: OptionalArg},
	{Name: "offset", Arg: RequiredArg, Default: "latest"},
	{Name: "config", Arg: RequiredArg},
	{Name: "config-file", Arg: RequiredArg},
}}

func TestParse(t *testing.T) {
	o, err := testParser.Parse([]string{"-topic", "-x", "--part=3", "stray", "--list", "--codec", "--config", "a=1", "--config=b=2", "--", "--list"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := o.Value("topic"); v != "-x" { // a required argument takes the next token whatever it is
		t.Errorf("topic %q", v)
	}
	if n, ok, err := o.Int("partitions"); n != 3 || !ok || err != nil {
		t.Errorf("partitions %d %v %v", n, ok, err)
	}
	if v, ok, _ := o.Value("codec"); v != "" || ok || !o.Has("codec") {
		t.Errorf("codec %q %v", v, ok)
	}
	if v, ok, _ := o.Value("offset"); v != "latest" || !ok || o.Has("offset") {
		t.Errorf("offset default %q %v", v, ok)
	}
	if got := strings.Join(o.Values("config"), " "); got != "a=1 b=2" {
		t.Errorf("config %q", got)
	}
	if _, _, err := o.Value("config"); err == nil || err.Error() != "Found multiple arguments for option config, but you asked for only one" {
		t.Errorf("multiple: %v", err)
	}
	if got := strings.Join(o.NonOptions, " "); got != "stray --list" {
		t.Errorf("non-options %q", got)
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--nope"}, "nope is not a recognized option"},
		{[]string{"--conf", "x"}, "conf is not a recognized option"}, // ambiguous: config, config-file
		{[]string{"--list=1"}, "Option list does not take an argument"},
		{[]string{"--topic"}, "Option topic requires an argument"},
	} {
		if _, err := testParser.Parse(tc.args); err == nil || err.Error() != tc.msg {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.msg)
		}
	}
	o, _ = testParser.Parse([]string{"--partitions", "x", "--topic", "t"}) // exact name beats the prefix of topic-id
	if _, _, err := o.Int("partitions"); err == nil || err.Error() != "Cannot parse argument 'x' of option partitions" {
		t.Errorf("conversion: %v", err)
	}
	if !o.Has("topic") || o.Has("topic-id") {
		t.Error("exact match")
	}
	if h := testParser.Help(); !strings.Contains(h, "--partitions <Integer>") || !strings.Contains(h, "--codec [String]") {
		t.Errorf("help:\n%s", h)
	}
}

func TestProperties(t *testing.T) {
	p := ParseProperties("# comment\n! also\n  a = 1\nb:2\nc 3\nd=x\\\n   y\ne=tab\\there\\u0041\nf\n  \n")
	want := Props{"a": "1", "b": "2", "c": "3", "d": "xy", "e": "tab\thereA", "f": ""}
	if len(p) != len(want) {
		t.Fatalf("got %q", p)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	kv := ParseKeyValueArgs([]string{"a=b=c", "d", "e="})
	if kv["a"] != "b=c" || kv["d"] != "" || kv["e"] != "" {
		t.Errorf("key=value: %q", kv)
	}
	if _, err := LoadProps("/nonexistent/file"); err == nil || err.Error() != "/nonexistent/file (No such file or directory)" {
		t.Errorf("missing file: %v", err)
	}
}

func TestJavaHashMapOrder(t *testing.T) {
	if h := JavaStringHash("hello"); h != 99162322 {
		t.Errorf("hash(hello) = %d", h)
	}
	if JavaStringHash("Aa") != 2112 || JavaStringHash("BB") != 2112 || JavaStringHash("é") != 233 {
		t.Error("hash of Aa, BB, é")
	}
	// The overridden configs of a topic as Kafka 3.x's kafka-topics.sh
	// printed them (a published describe output): the order of
	// java.util.HashMap over a 3.x topic's ~35 config names.
	printed := []string{"min.insync.replicas", "cleanup.policy", "follower.replication.throttled.replicas",
		"segment.bytes", "retention.ms", "file.delete.delay.ms", "max.message.bytes", "retention.bytes"}
	all := append([]string{"retention.bytes", "max.message.bytes", "file.delete.delay.ms", "segment.bytes", "retention.ms",
		"follower.replication.throttled.replicas", "cleanup.policy", "min.insync.replicas"}, filler(30)...)
	var got []string
	for _, i := range HashMapOrder(all, 0) {
		for _, p := range printed {
			if all[i] == p {
				got = append(got, p)
			}
		}
	}
	// segment.bytes and retention.ms share a bucket: insertion order decides,
	// and the broker sent segment.bytes first.
	if strings.Join(got, ",") != strings.Join(printed, ",") {
		t.Fatalf("order %v", got)
	}
	if c := HashMapCapacity(3, 3); c != 4 {
		t.Errorf("capacity(3, 3) = %d", c)
	}
	if c := HashMapCapacity(13, 0); c != 32 {
		t.Errorf("capacity(13) = %d", c)
	}
}

func filler(n int) []string {
	var out []string
	for i := range n {
		out = append(out, "zz.filler."+string(rune('a'+i)))
	}
	return out
}

func TestTopicFilter(t *testing.T) {
	f, err := NewTopicFilter(` "orders.*, audit" `)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]bool{"orders": true, "orders-eu": true, "audit": true, "xaudit": false, "audits": false} {
		if f.Allowed(topic, false) != want {
			t.Errorf("%s: %v", topic, !want)
		}
	}
	all, _ := NewTopicFilter(".*")
	if all.Allowed("__consumer_offsets", true) || !all.Allowed("__consumer_offsets", false) {
		t.Error("internal topics")
	}
	if _, err := NewTopicFilter("a("); err == nil || err.Error() != "a( is an invalid regex." {
		t.Errorf("bad regex: %v", err)
	}
	if s := UUIDString([16]byte{0xff, 1}); s != "_wEAAAAAAAAAAAAAAAAAAA" {
		t.Errorf("uuid %s", s)
	}
	if m := ErrorMessage(3, nil); m != "This server does not host this topic-partition." {
		t.Errorf("message %q", m)
	}
	msg := "custom"
	if m := ErrorMessage(3, &msg); m != "custom" {
		t.Errorf("message %q", m)
	}
}

func TestBootstrap(t *testing.T) {
	if err := ValidateBootstrapShape("a:1,[::1]:9092"); err != nil {
		t.Error(err)
	}
	if err := ValidateBootstrapShape("a:1,b"); err == nil || err.Error() != "Please provide valid host:port like host1:9091,host2:9092" {
		t.Errorf("shape: %v", err)
	}
	seeds, err := BootstrapSeeds(context.Background(), " 127.0.0.1:9092 ,,localhost:1")
	if err != nil || strings.Join(seeds, ",") != "127.0.0.1:9092,localhost:1" {
		t.Errorf("seeds %v %v", seeds, err)
	}
	if _, err := BootstrapSeeds(context.Background(), "localhost"); err == nil || err.Error() != "Invalid url in bootstrap.servers: localhost" {
		t.Errorf("no port: %v", err)
	}
	if _, err := BootstrapSeeds(context.Background(), "no-such-host.invalid:9092"); err == nil ||
		err.Error() != "No resolvable bootstrap urls given in bootstrap.servers" {
		t.Errorf("unresolvable: %v", err)
	}
	if _, err := NewClient(context.Background(), ClientConfig{Bootstrap: "127.0.0.1:1", Props: Props{"security.protocol": "SSL"}}); err == nil ||
		!strings.Contains(err.Error(), "security.protocol=SSL is not supported") {
		t.Errorf("ssl: %v", err)
	}
}
