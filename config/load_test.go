package config

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/model"
)

const testHost = "broker.test.example"

func fixedHost() (string, error) { return testHost, nil }

// minimal returns the smallest valid configuration plus extra name/value
// pairs.
func minimal(kv ...string) map[string]string {
	m := map[string]string{"zookeeper.connect": "localhost:2181"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func load(props map[string]string, overrides ...string) (Broker, error) {
	return Load(Options{Properties: props, Overrides: overrides, IgnoreEnv: true, Hostname: fixedHost})
}

func mustLoad(t *testing.T, props map[string]string, overrides ...string) Broker {
	t.Helper()
	b, err := load(props, overrides...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b
}

func problemsOf(t *testing.T, err error) []*SettingError {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a *LoadError", err, err)
	}
	return le.Problems
}

// lineOf returns the 1-based line of the first line of path starting with
// prefix.
func lineOf(t *testing.T, path, prefix string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line starting with %q", path, prefix)
	return 0
}

func TestLoadRealisticServerProperties(t *testing.T) {
	const path = "testdata/server.properties"
	b, err := Load(Options{File: path, IgnoreEnv: true, Hostname: fixedHost})
	if err != nil {
		t.Fatal(err)
	}
	if b.BrokerID != 0 {
		t.Errorf("BrokerID = %d", b.BrokerID)
	}
	wantListeners := []model.Endpoint{
		{Listener: "PLAINTEXT", Host: "", Port: 9092, SecurityProtocol: "PLAINTEXT"},
		{Listener: "INTERNAL", Host: "127.0.0.1", Port: 9093, SecurityProtocol: "PLAINTEXT"},
	}
	if !reflect.DeepEqual(b.Listeners, wantListeners) {
		t.Errorf("Listeners = %+v", b.Listeners)
	}
	wantAdv := []model.Endpoint{
		{Listener: "PLAINTEXT", Host: "broker0.example.com", Port: 9092, SecurityProtocol: "PLAINTEXT"},
		{Listener: "INTERNAL", Host: "127.0.0.1", Port: 9093, SecurityProtocol: "PLAINTEXT"},
	}
	if !reflect.DeepEqual(b.AdvertisedListeners, wantAdv) {
		t.Errorf("AdvertisedListeners = %+v", b.AdvertisedListeners)
	}
	if b.InterBrokerListenerName != "INTERNAL" || b.InterBrokerSecurityProtocol != "PLAINTEXT" {
		t.Errorf("inter-broker = %s/%s", b.InterBrokerListenerName, b.InterBrokerSecurityProtocol)
	}
	if e, ok := b.InterBrokerEndpoint(); !ok || e.Port != 9093 {
		t.Errorf("InterBrokerEndpoint = %+v, %v", e, ok)
	}
	if want := []string{"/var/lib/kbroker/data-1", "/var/lib/kbroker/data-2"}; !reflect.DeepEqual(b.LogDirs, want) {
		t.Errorf("LogDirs = %q", b.LogDirs)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"NumPartitions", b.NumPartitions, int32(3)},
		{"NumRecoveryThreadsPerDataDir", b.NumRecoveryThreadsPerDataDir, int32(1)},
		{"SocketRequestMaxBytes", b.SocketRequestMaxBytes, int32(104857600)},
		{"SocketSendBufferBytes", b.SocketSendBufferBytes, int32(102400)},
		{"OffsetsTopicReplicationFactor", b.OffsetsTopicReplicationFactor, int16(1)},
		{"TransactionStateLogReplicationFactor", b.TransactionStateLogReplicationFactor, int16(1)},
		{"TransactionStateLogMinISR", b.TransactionStateLogMinISR, int32(1)},
		{"LogRetentionMs", b.LogRetentionMs, int64(24 * 3600 * 1000)},
		{"LogRetentionBytes", b.LogRetentionBytes, int64(1 << 30)},
		{"LogSegmentBytes", b.LogSegmentBytes, int32(512 << 20)},
		{"LogRetentionCheckIntervalMs", b.LogRetentionCheckIntervalMs, int64(300000)},
		{"ZooKeeperConnect", b.ZooKeeperConnect, "zk1:2181,zk2:2181,zk3:2181/kafka-prod"},
		{"ZooKeeperSessionTimeoutMs", b.ZooKeeperSessionTimeoutMs, int32(18000)},
		{"ZooKeeperConnectionTimeoutMs", b.ZooKeeperConnectionTimeoutMs, int32(18000)},
		{"ZooKeeperChroot", b.ZooKeeperChroot(), "/kafka-prod"},
		{"ZooKeeperServers", b.ZooKeeperServers(), []string{"zk1:2181", "zk2:2181", "zk3:2181"}},
		{"GroupInitialRebalanceDelayMs", b.GroupInitialRebalanceDelayMs, int32(0)},
		{"BrokerRack", *b.BrokerRack, "rack-a"},
		// Not in the file: Kafka's defaults.
		{"DefaultReplicationFactor", b.DefaultReplicationFactor, int32(1)},
		{"AutoCreateTopicsEnable", b.AutoCreateTopicsEnable, true},
		{"Ignored", b.Ignored(), []string{"num.io.threads", "num.network.threads"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if got, want := b.Origin("num.partitions"), path+":"+itoa(lineOf(t, path, "num.partitions")); got != want {
		t.Errorf("Origin(num.partitions) = %q, want %q", got, want)
	}
	if !b.IsSet("log.retention.hours") || b.IsSet("log.retention.ms") {
		t.Errorf("IsSet wrong")
	}
	td := b.TopicDefaults()
	if td.RetentionMs != 24*3600*1000 || td.SegmentBytes != 512<<20 || td.RetentionBytes != 1<<30 || td.SegmentMs != 7*24*3600*1000 {
		t.Errorf("TopicDefaults = %+v", td)
	}
}

func itoa(n int) string { return formatInt(int64(n)) }

func formatInt(n int64) string { return *formatValue(n) }

func TestLoadDefaults(t *testing.T) {
	b := mustLoad(t, minimal())
	checks := []struct {
		name      string
		got, want any
	}{
		{"BrokerID", b.BrokerID, int32(-1)},
		{"BrokerIDGenerationEnable", b.BrokerIDGenerationEnable, true},
		{"ReservedBrokerMaxID", b.ReservedBrokerMaxID, int32(1000)},
		{"BrokerRack", b.BrokerRack, (*string)(nil)},
		{"Listeners", b.Listeners, []model.Endpoint{{Listener: "PLAINTEXT", Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"AdvertisedListeners", b.AdvertisedListeners, []model.Endpoint{{Listener: "PLAINTEXT", Host: testHost, Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"ListenerSecurityProtocolMap", b.ListenerSecurityProtocolMap, map[string]string{
			"PLAINTEXT": "PLAINTEXT", "SSL": "SSL", "SASL_PLAINTEXT": "SASL_PLAINTEXT", "SASL_SSL": "SASL_SSL"}},
		{"InterBrokerListenerName", b.InterBrokerListenerName, "PLAINTEXT"},
		{"LogDirs", b.LogDirs, []string{"/tmp/kafka-logs"}},
		{"ZooKeeperSessionTimeoutMs", b.ZooKeeperSessionTimeoutMs, int32(18000)},
		{"ZooKeeperConnectionTimeoutMs", b.ZooKeeperConnectionTimeoutMs, int32(18000)},
		{"ZooKeeperChroot", b.ZooKeeperChroot(), ""},
		{"NumPartitions", b.NumPartitions, int32(1)},
		{"DefaultReplicationFactor", b.DefaultReplicationFactor, int32(1)},
		{"AutoCreateTopicsEnable", b.AutoCreateTopicsEnable, true},
		{"DeleteTopicEnable", b.DeleteTopicEnable, true},
		{"MessageMaxBytes", b.MessageMaxBytes, int32(1048588)},
		{"SocketRequestMaxBytes", b.SocketRequestMaxBytes, int32(104857600)},
		{"ConnectionsMaxIdleMs", b.ConnectionsMaxIdleMs, int64(600000)},
		{"NumRecoveryThreadsPerDataDir", b.NumRecoveryThreadsPerDataDir, int32(1)},
		{"LogSegmentBytes", b.LogSegmentBytes, int32(1 << 30)},
		{"LogRollMs", b.LogRollMs, int64(604800000)},
		{"LogRollJitterMs", b.LogRollJitterMs, int64(0)},
		{"LogRetentionMs", b.LogRetentionMs, int64(604800000)},
		{"LogRetentionBytes", b.LogRetentionBytes, int64(-1)},
		{"LogRetentionCheckIntervalMs", b.LogRetentionCheckIntervalMs, int64(300000)},
		{"LogIndexIntervalBytes", b.LogIndexIntervalBytes, int32(4096)},
		{"LogIndexSizeMaxBytes", b.LogIndexSizeMaxBytes, int32(10485760)},
		{"LogSegmentDeleteDelayMs", b.LogSegmentDeleteDelayMs, int64(60000)},
		{"LogFlushIntervalMessages", b.LogFlushIntervalMessages, int64(math.MaxInt64)},
		{"LogFlushIntervalMs", b.LogFlushIntervalMs, int64(math.MaxInt64)},
		{"LogFlushSchedulerIntervalMs", b.LogFlushSchedulerIntervalMs, int64(math.MaxInt64)},
		{"LogFlushOffsetCheckpointIntervalMs", b.LogFlushOffsetCheckpointIntervalMs, int32(60000)},
		{"LogFlushStartOffsetCheckpointIntervalMs", b.LogFlushStartOffsetCheckpointIntervalMs, int32(60000)},
		{"LogCleanupPolicy", b.LogCleanupPolicy, []string{"delete"}},
		{"LogMessageTimestampType", b.LogMessageTimestampType, "CreateTime"},
		{"LogMessageTimestampBeforeMaxMs", b.LogMessageTimestampBeforeMaxMs, int64(math.MaxInt64)},
		{"LogMessageTimestampAfterMaxMs", b.LogMessageTimestampAfterMaxMs, int64(math.MaxInt64)},
		{"CompressionType", b.CompressionType, "producer"},
		{"MinInsyncReplicas", b.MinInsyncReplicas, int32(1)},
		{"UncleanLeaderElectionEnable", b.UncleanLeaderElectionEnable, false},
		{"ReplicaLagTimeMaxMs", b.ReplicaLagTimeMaxMs, int64(30000)},
		{"ReplicaFetchMaxBytes", b.ReplicaFetchMaxBytes, int32(1048576)},
		{"ReplicaHighWatermarkCheckpointIntervalMs", b.ReplicaHighWatermarkCheckpointIntervalMs, int64(5000)},
		{"ControlledShutdownEnable", b.ControlledShutdownEnable, true},
		{"AutoLeaderRebalanceEnable", b.AutoLeaderRebalanceEnable, true},
		{"LeaderImbalanceCheckIntervalSeconds", b.LeaderImbalanceCheckIntervalSeconds, int64(300)},
		{"OffsetsTopicNumPartitions", b.OffsetsTopicNumPartitions, int32(50)},
		{"OffsetsTopicReplicationFactor", b.OffsetsTopicReplicationFactor, int16(3)},
		{"OffsetsTopicSegmentBytes", b.OffsetsTopicSegmentBytes, int32(104857600)},
		{"OffsetsRetentionMinutes", b.OffsetsRetentionMinutes, int32(10080)},
		{"OffsetsCommitRequiredAcks", b.OffsetsCommitRequiredAcks, int16(-1)},
		{"OffsetMetadataMaxBytes", b.OffsetMetadataMaxBytes, int32(4096)},
		{"TransactionStateLogNumPartitions", b.TransactionStateLogNumPartitions, int32(50)},
		{"TransactionStateLogReplicationFactor", b.TransactionStateLogReplicationFactor, int16(3)},
		{"TransactionStateLogMinISR", b.TransactionStateLogMinISR, int32(2)},
		{"TransactionMaxTimeoutMs", b.TransactionMaxTimeoutMs, int32(900000)},
		{"TransactionalIDExpirationMs", b.TransactionalIDExpirationMs, int32(604800000)},
		{"ProducerIDExpirationMs", b.ProducerIDExpirationMs, int32(86400000)},
		{"GroupInitialRebalanceDelayMs", b.GroupInitialRebalanceDelayMs, int32(3000)},
		{"GroupMinSessionTimeoutMs", b.GroupMinSessionTimeoutMs, int32(6000)},
		{"GroupMaxSessionTimeoutMs", b.GroupMaxSessionTimeoutMs, int32(1800000)},
		{"Ignored", b.Ignored(), []string(nil)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if b.ZooKeeperSessionTimeout().Seconds() != 18 {
		t.Errorf("ZooKeeperSessionTimeout = %v", b.ZooKeeperSessionTimeout())
	}
	if Millis(math.MaxInt64) <= 0 || Millis(1500).Milliseconds() != 1500 {
		t.Errorf("Millis saturation wrong")
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrecedence checks defaults < file < properties < env < --override,
// layer by layer.
func TestPrecedence(t *testing.T) {
	path := writeFile(t, "zookeeper.connect=zk:2181\nnum.partitions=2\nlog.retention.hours=10\n"+
		"default.replication.factor=2\nmessage.max.bytes=2000\n")
	t.Setenv("KBROKER_NUM_PARTITIONS", "4")
	t.Setenv("KBROKER_DEFAULT_REPLICATION_FACTOR", "4")
	b, err := Load(Options{
		File:       path,
		Properties: map[string]string{"num.partitions": "3", "default.replication.factor": "3", "log.retention.hours": "11"},
		Overrides:  []string{"num.partitions=5", "num.partitions=6"},
		Hostname:   fixedHost,
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"num.partitions (override, last wins)", b.NumPartitions, int32(6)},
		{"default.replication.factor (env)", b.DefaultReplicationFactor, int32(4)},
		{"log.retention.hours (properties)", b.LogRetentionMs, int64(11 * 3600_000)},
		{"message.max.bytes (file)", b.MessageMaxBytes, int32(2000)},
		{"num.recovery.threads.per.data.dir (default)", b.NumRecoveryThreadsPerDataDir, int32(1)},
		{"origin num.partitions", b.Origin("num.partitions"), "--override"},
		{"origin default.replication.factor", b.Origin("default.replication.factor"), "environment variable KBROKER_DEFAULT_REPLICATION_FACTOR"},
		{"origin log.retention.hours", b.Origin("log.retention.hours"), "properties"},
		{"origin message.max.bytes", b.Origin("message.max.bytes"), path + ":5"},
		{"origin default", b.Origin("num.recovery.threads.per.data.dir"), ""},
		{"explicit value", b.Explicit()["num.partitions"], "6"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// Without the overrides the environment wins over properties and file.
	b, err = Load(Options{File: path, Properties: map[string]string{"num.partitions": "3"}, Hostname: fixedHost})
	if err != nil {
		t.Fatal(err)
	}
	if b.NumPartitions != 4 {
		t.Errorf("num.partitions = %d, want 4 (env)", b.NumPartitions)
	}
	// IgnoreEnv: properties win over the file.
	b, err = Load(Options{File: path, Properties: map[string]string{"num.partitions": "3"}, IgnoreEnv: true, Hostname: fixedHost})
	if err != nil {
		t.Fatal(err)
	}
	if b.NumPartitions != 3 || b.DefaultReplicationFactor != 2 {
		t.Errorf("num.partitions = %d (want 3), default.replication.factor = %d (want 2)", b.NumPartitions, b.DefaultReplicationFactor)
	}
}

func TestEnvironment(t *testing.T) {
	if got := EnvVar("log.retention.hours"); got != "KBROKER_LOG_RETENTION_HOURS" {
		t.Errorf("EnvVar = %q", got)
	}
	if got := envName("KBROKER_ZOOKEEPER_CONNECT"); got != "zookeeper.connect" {
		t.Errorf("envName = %q", got)
	}
	for _, name := range BrokerConfigNames() {
		if envName(EnvVar(name)) != name {
			t.Errorf("%s does not round-trip through %s", name, EnvVar(name))
		}
	}

	t.Setenv("KBROKER_ZOOKEEPER_CONNECT", "zk-env:2181/chroot")
	t.Setenv("KBROKER_LOG_RETENTION_MINUTES", "30")
	t.Setenv("KBROKER_BROKER_RACK", "") // empty = unset
	b, err := Load(Options{Hostname: fixedHost})
	if err != nil {
		t.Fatal(err)
	}
	if b.ZooKeeperConnect != "zk-env:2181/chroot" || b.LogRetentionMs != 30*60_000 || b.BrokerRack != nil {
		t.Errorf("env not applied: %q %d %v", b.ZooKeeperConnect, b.LogRetentionMs, b.BrokerRack)
	}

	t.Setenv("KBROKER_NUM_PARTITION", "3")
	_, err = Load(Options{Hostname: fixedHost})
	ps := problemsOf(t, err)
	if len(ps) != 1 || !ps[0].Unknown || ps[0].Name != "num.partition" ||
		ps[0].Origin != "environment variable KBROKER_NUM_PARTITION" ||
		!strings.Contains(ps[0].Error(), "did you mean num.partitions?") {
		t.Errorf("problems = %v", err)
	}
	// IgnoreEnv skips the bad variable too.
	if _, err := Load(Options{Properties: minimal(), IgnoreEnv: true, Hostname: fixedHost}); err != nil {
		t.Errorf("IgnoreEnv: %v", err)
	}
}

func TestUnknownSettings(t *testing.T) {
	cases := []struct {
		name string
		hint string
	}{
		{"foo.bar", ""},
		{"num.partition", "did you mean num.partitions?"},
		{"Num.Partitions", "setting names are case-sensitive; did you mean num.partitions?"},
		{"process.roles", "KRaft setting"},
		{"node.id", "KRaft setting"},
		{"ssl.keystore.location", "PLAINTEXT listeners only"},
		{"sasl.enabled.mechanisms", "PLAINTEXT listeners only"},
		{"listener.name.internal.ssl.keystore.location", "PLAINTEXT listeners only"},
	}
	for _, c := range cases {
		_, err := load(minimal(c.name, "x"))
		ps := problemsOf(t, err)
		if len(ps) != 1 || !ps[0].Unknown || ps[0].Name != c.name || !strings.Contains(ps[0].Reason, c.hint) {
			t.Errorf("%s: %v", c.name, err)
		}
		if !strings.Contains(err.Error(), `unknown configuration "`+c.name+`"`) {
			t.Errorf("%s: message %q", c.name, err)
		}
	}

	// From the file (where viper would lowercase) and from --override.
	path := writeFile(t, "zookeeper.connect=zk:2181\nLog.Dirs=/x\n")
	_, err := Load(Options{File: path, IgnoreEnv: true, Hostname: fixedHost})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Name != "Log.Dirs" || ps[0].Origin != path+":2" || !strings.Contains(ps[0].Reason, "case-sensitive") {
		t.Errorf("file: %v", err)
	}
	_, err = load(minimal(), "no.such.setting=1")
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Origin != "--override" {
		t.Errorf("override: %v", err)
	}
}

// TestAcceptedButIgnored checks the allow-list of Kafka settings kbroker
// accepts without acting on them.
func TestAcceptedButIgnored(t *testing.T) {
	b := mustLoad(t, minimal(
		"num.network.threads", "3",
		"num.io.threads", "16",
		"log.message.format.version", "2.8",
		"inter.broker.protocol.version", "3.9-IV0",
		"zookeeper.set.acl", "false",
		"metrics.num.samples", "2",
		"log.cleaner.threads", "2", // used (exposed field)
	))
	// log.message.format.version feeds message.format.version of topics, so
	// it counts as used.
	want := []string{"inter.broker.protocol.version", "metrics.num.samples",
		"num.io.threads", "num.network.threads", "zookeeper.set.acl"}
	if got := b.Ignored(); !reflect.DeepEqual(got, want) {
		t.Errorf("Ignored = %q, want %q", got, want)
	}
	// They are still type-checked.
	_, err := load(minimal("num.io.threads", "0"))
	if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Reason != "Value must be at least 1" {
		t.Errorf("num.io.threads=0: %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		desc      string
		props     map[string]string
		overrides []string
		setting   string
		reason    string
	}{
		{"missing zookeeper.connect", map[string]string{}, nil, "zookeeper.connect", "Missing required configuration `zookeeper.connect`"},
		{"zk bad port", minimal("zookeeper.connect", "zk:abc"), nil, "zookeeper.connect", "invalid port"},
		{"zk empty server", minimal("zookeeper.connect", "zk:2181,,zk2"), nil, "zookeeper.connect", "empty server"},
		{"zk chroot trailing slash", minimal("zookeeper.connect", "zk:2181/kafka/"), nil, "zookeeper.connect", "must not end with /"},
		{"zk chroot empty segment", minimal("zookeeper.connect", "zk:2181/a//b"), nil, "zookeeper.connect", "empty node name"},
		{"int not a number", minimal("num.partitions", "abc"), nil, "num.partitions", "Not a number of type INT"},
		{"int overflow", minimal("num.partitions", "3000000000"), nil, "num.partitions", "Not a number of type INT"},
		{"int below range", minimal("num.partitions", "0"), nil, "num.partitions", "Value must be at least 1"},
		{"short overflow", minimal("offsets.topic.replication.factor", "40000"), nil, "offsets.topic.replication.factor", "Not a number of type SHORT"},
		{"long not a number", minimal("log.retention.bytes", "1GB"), nil, "log.retention.bytes", "Not a number of type LONG"},
		{"double not a number", minimal("log.cleaner.min.cleanable.ratio", "half"), nil, "log.cleaner.min.cleanable.ratio", "Not a number of type DOUBLE"},
		{"double above range", minimal("log.cleaner.min.cleanable.ratio", "1.5"), nil, "log.cleaner.min.cleanable.ratio", "Value must be no more than 1"},
		{"boolean", minimal("auto.create.topics.enable", "yes"), nil, "auto.create.topics.enable", "Expected value to be either true or false"},
		{"list element", minimal("log.cleanup.policy", "compact,foo"), nil, "log.cleanup.policy", "String must be one of: compact, delete"},
		{"string choice", minimal("compression.type", "brotli"), nil, "compression.type", "String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"string choice is case-sensitive", minimal("log.message.timestamp.type", "createtime"), nil, "log.message.timestamp.type", "String must be one of: CreateTime, LogAppendTime"},
		{"segment bytes", minimal("log.segment.bytes", "10"), nil, "log.segment.bytes", "Value must be at least 14"},
		{"gzip level", minimal("compression.gzip.level", "10"), nil, "compression.gzip.level", "between 1 and 9, or -1"},
		{"metadata version", minimal("log.message.format.version", "9.9"), nil, "log.message.format.version", "valid Kafka release"},
		{"broker id above reserved", minimal("broker.id", "2000"), nil, "broker.id", "not greater than reserved.broker.max.id"},
		{"broker id below -1", minimal("broker.id", "-5"), nil, "broker.id", "greater than or equal to -1"},
		{"broker id without generation", minimal("broker.id.generation.enable", "false"), nil, "broker.id", "broker.id must be greater than or equal to 0"},
		{"duplicate log dirs", minimal("log.dirs", "/a, /b,/a/"), nil, "log.dirs", "duplicate log directory /a/"},
		{"no log dir", minimal("log.dirs", " , "), nil, "log.dirs", "At least one log directory"},
		{"empty log.dir", minimal("log.dir", ""), nil, "log.dir", "At least one log directory"},
		{"roll ms", minimal("log.roll.ms", "0"), nil, "log.roll.ms", "log.roll.ms must be greater than or equal to 1"},
		{"roll hours", minimal("log.roll.hours", "0"), nil, "log.roll.hours", "Value must be at least 1"},
		{"jitter ms", minimal("log.roll.jitter.ms", "-1"), nil, "log.roll.jitter.ms", "log.roll.jitter.ms must be greater than or equal to 0"},
		{"retention ms zero", minimal("log.retention.ms", "0"), nil, "log.retention.ms", "must be unlimited (-1) or, greater than or equal to 1"},
		{"retention hours zero", minimal("log.retention.hours", "0"), nil, "log.retention.hours", "must be unlimited (-1)"},
		{"listener syntax", minimal("listeners", "PLAINTEXT//:9092"), nil, "listeners", "unable to parse"},
		{"listener port range", minimal("listeners", "PLAINTEXT://:99999"), nil, "listeners", "port out of range"},
		{"listener port not a number", minimal("listeners", "PLAINTEXT://host:http"), nil, "listeners", "port is not a number"},
		{"listener host characters", minimal("listeners", "PLAINTEXT://ho/st:9092"), nil, "listeners", "invalid character"},
		{"listener bad ipv6", minimal("listeners", "PLAINTEXT://[::1:9092"), nil, "listeners", "malformed IPv6"},
		{"duplicate listener names", minimal("listeners", "PLAINTEXT://:9092,plaintext://:9093"), nil, "listeners", "each listener must have a different name"},
		{"duplicate ports", minimal("listeners", "PLAINTEXT://:9092,INTERNAL://:9092", "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT"), nil, "listeners", "different port"},
		{"listener without protocol", minimal("listeners", "FOO://:9092"), nil, "listeners", "no security protocol defined for listener FOO"},
		{"tls listener", minimal("listeners", "PLAINTEXT://:9092,SSL://:9093"), nil, "listeners", "listener SSL uses security protocol SSL; kbroker supports PLAINTEXT only"},
		{"protocol map syntax", minimal("listener.security.protocol.map", "PLAINTEXT"), nil, "listener.security.protocol.map", "not of the form LISTENER_NAME:SECURITY_PROTOCOL"},
		{"protocol map protocol", minimal("listener.security.protocol.map", "PLAINTEXT:TLS"), nil, "listener.security.protocol.map", `invalid security protocol "TLS"`},
		{"protocol map duplicate", minimal("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,plaintext:SSL"), nil, "listener.security.protocol.map", "mapped twice"},
		{"advertised not in listeners", minimal("advertised.listeners", "PLAINTEXT://h:9092,EXTERNAL://h:9094",
			"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"), nil, "advertised.listeners", "EXTERNAL is not in listeners"},
		{"advertised without protocol", minimal("advertised.listeners", "FOO://h:1"), nil, "advertised.listeners", "no security protocol defined for listener FOO"},
		{"advertised meta-address", minimal("advertised.listeners", "PLAINTEXT://0.0.0.0:9092"), nil, "advertised.listeners", "nonroutable meta-address 0.0.0.0"},
		{"advertised empty", minimal("advertised.listeners", ""), nil, "advertised.listeners", "There must be at least one advertised listener."},
		{"no listeners", minimal("listeners", ""), nil, "listeners", "There must be at least one advertised listener."},
		{"inter-broker listener unmapped", minimal("inter.broker.listener.name", "NOPE"), nil, "inter.broker.listener.name", "Listener with name NOPE defined in inter.broker.listener.name not found in listener.security.protocol.map."},
		{"inter-broker listener and protocol", minimal("inter.broker.listener.name", "PLAINTEXT", "security.inter.broker.protocol", "PLAINTEXT"), nil, "inter.broker.listener.name", "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set."},
		{"inter-broker listener not advertised", minimal("listeners", "INTERNAL://:9093", "listener.security.protocol.map", "INTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT"), nil, "listeners",
			"inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are INTERNAL"},
		{"bad inter-broker protocol", minimal("security.inter.broker.protocol", "TLS"), nil, "security.inter.broker.protocol", "String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"},
		{"zookeeper acl", minimal("zookeeper.set.acl", "true"), nil, "zookeeper.set.acl", "does not write ZooKeeper ACLs"},
		{"authorizer", minimal("authorizer.class.name", "kafka.security.authorizer.AclAuthorizer"), nil, "authorizer.class.name", "no authorizer"},
		{"control plane", minimal("control.plane.listener.name", "CONTROL"), nil, "control.plane.listener.name", "not supported"},
		{"policy class", minimal("create.topic.policy.class.name", "com.example.Policy"), nil, "create.topic.policy.class.name", "Java policy classes"},
		{"metric reporters", minimal("metric.reporters", "com.example.Reporter"), nil, "metric.reporters", "Java metric reporters"},
		{"tiered storage", minimal("remote.log.storage.system.enable", "true"), nil, "remote.log.storage.system.enable", "tiered storage"},
		{"consumer protocol", minimal("group.coordinator.rebalance.protocols", "classic,consumer"), nil, "group.coordinator.rebalance.protocols", "only the 'classic' rebalance protocol"},
		{"replica fetch wait", minimal("replica.fetch.wait.max.ms", "40000"), nil, "replica.fetch.wait.max.ms", "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms"},
		{"replica lag", minimal("replica.lag.time.max.ms", "100"), nil, "replica.lag.time.max.ms", "replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms"},
		{"commit acks", minimal("offsets.commit.required.acks", "5"), nil, "offsets.commit.required.acks", "less or equal to offsets.topic.replication.factor"},
		{"dedupe buffer", minimal("log.cleaner.dedupe.buffer.size", "1000"), nil, "log.cleaner.dedupe.buffer.size", "at least 1MB per cleaner thread"},
		{"compaction lags", minimal("log.cleaner.min.compaction.lag.ms", "10", "log.cleaner.max.compaction.lag.ms", "5"), nil, "log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
		{"queued bytes", minimal("queued.max.request.bytes", "10"), nil, "queued.max.request.bytes", "must be larger or equal to socket.request.max.bytes"},
		{"connections per ip", minimal("max.connections.per.ip", "0"), nil, "max.connections.per.ip", "can be set to zero only if"},
		{"override syntax", minimal(), []string{"num.partitions"}, "num.partitions", "is not of the form name=value"},
		{"bad override value", minimal(), []string{"num.partitions=x"}, "num.partitions", "Not a number of type INT"},
	}
	for _, c := range cases {
		_, err := load(c.props, c.overrides...)
		if err == nil {
			t.Errorf("%s: Load succeeded", c.desc)
			continue
		}
		found := false
		for _, p := range problemsOf(t, err) {
			if p.Name == c.setting && strings.Contains(p.Error(), c.reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want a problem with %s containing %q, got:\n%v", c.desc, c.setting, c.reason, err)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	path := writeFile(t, "zookeeper.connect=zk:2181\nnum.partitions=abc\nlog.segment.bytes=1\n")
	_, err := Load(Options{File: path, IgnoreEnv: true, Hostname: fixedHost})
	ps := problemsOf(t, err)
	if len(ps) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	want := []string{
		"Invalid value abc for configuration num.partitions: Not a number of type INT (set by " + path + ":2)",
		"Invalid value 1 for configuration log.segment.bytes: Value must be at least 14 (set by " + path + ":3)",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message\n%s\nlacks\n%s", err, w)
		}
	}
	if !strings.HasPrefix(err.Error(), "invalid broker configuration (2 problems):\n  - ") {
		t.Errorf("message = %q", err)
	}
	var se *SettingError
	if !errors.As(err, &se) || se.Name == "" {
		t.Errorf("errors.As(*SettingError) failed")
	}

	// A missing file is an I/O error, not a LoadError.
	_, err = Load(Options{File: filepath.Join(t.TempDir(), "missing.properties"), IgnoreEnv: true})
	var le *LoadError
	if err == nil || errors.As(err, &le) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A syntax error names the file and line.
	bad := writeFile(t, "a=1\nb=\\uZZZZ\n")
	if _, err := Load(Options{File: bad, IgnoreEnv: true}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("syntax error: %v", err)
	}
}

func TestValueParsingIsKafkaLike(t *testing.T) {
	b := mustLoad(t, minimal(
		"num.partitions", "  7  ",
		"auto.create.topics.enable", "FALSE",
		"log.cleanup.policy", " compact , delete ",
		"log.cleaner.min.cleanable.ratio", "0.25",
		"broker.rack", "  r1 ",
	))
	if b.NumPartitions != 7 || b.AutoCreateTopicsEnable || !reflect.DeepEqual(b.LogCleanupPolicy, []string{"compact", "delete"}) ||
		b.LogCleanerMinCleanableRatio != 0.25 || *b.BrokerRack != "r1" {
		t.Errorf("parsed = %d %v %q %v %q", b.NumPartitions, b.AutoCreateTopicsEnable, b.LogCleanupPolicy, b.LogCleanerMinCleanableRatio, *b.BrokerRack)
	}
	if v, ok := b.Value("num.partitions"); !ok || v != int32(7) {
		t.Errorf("Value = %v, %v", v, ok)
	}
	if _, ok := b.Value("nope"); ok {
		t.Errorf("Value(nope) ok")
	}
	// An empty cleanup policy is allowed (neither delete nor compact).
	b = mustLoad(t, minimal("log.cleanup.policy", ""))
	if len(b.LogCleanupPolicy) != 0 || b.TopicDefaults().Delete() {
		t.Errorf("empty policy = %q", b.LogCleanupPolicy)
	}
}

func TestTimeSynonymPrecedence(t *testing.T) {
	const h, m = int64(3600_000), int64(60_000)
	cases := []struct {
		props         []string
		retention     int64
		roll, jitter  int64
		flush         int64
		before, after int64
	}{
		{nil, 168 * h, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.hours", "1"}, h, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.hours", "1", "log.retention.minutes", "5"}, 5 * m, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.hours", "1", "log.retention.minutes", "5", "log.retention.ms", "1000"}, 1000, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.ms", "-1"}, -1, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.ms", "-5"}, -1, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.hours", "-1"}, -1, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.retention.minutes", "-2", "log.retention.hours", "3"}, -1, 168 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.roll.hours", "2"}, 168 * h, 2 * h, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.roll.hours", "2", "log.roll.ms", "100"}, 168 * h, 100, 0, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.roll.jitter.hours", "1"}, 168 * h, 168 * h, h, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.roll.jitter.hours", "1", "log.roll.jitter.ms", "5"}, 168 * h, 168 * h, 5, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		{[]string{"log.flush.scheduler.interval.ms", "3000"}, 168 * h, 168 * h, 0, 3000, math.MaxInt64, math.MaxInt64},
		{[]string{"log.flush.scheduler.interval.ms", "3000", "log.flush.interval.ms", "1000"}, 168 * h, 168 * h, 0, 1000, math.MaxInt64, math.MaxInt64},
		{[]string{"log.message.timestamp.difference.max.ms", "1000"}, 168 * h, 168 * h, 0, math.MaxInt64, 1000, 1000},
		{[]string{"log.message.timestamp.difference.max.ms", "1000", "log.message.timestamp.before.max.ms", "5"}, 168 * h, 168 * h, 0, math.MaxInt64, 5, 1000},
	}
	for _, c := range cases {
		b := mustLoad(t, minimal(c.props...))
		got := []int64{b.LogRetentionMs, b.LogRollMs, b.LogRollJitterMs, b.LogFlushIntervalMs, b.LogMessageTimestampBeforeMaxMs, b.LogMessageTimestampAfterMaxMs}
		want := []int64{c.retention, c.roll, c.jitter, c.flush, c.before, c.after}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: retention/roll/jitter/flush/before/after = %v, want %v", c.props, got, want)
		}
		td := b.TopicDefaults()
		if td.RetentionMs != c.retention || td.SegmentMs != c.roll || td.SegmentJitterMs != c.jitter || td.FlushMs != c.flush ||
			td.MessageTimestampBeforeMaxMs != c.before || td.MessageTimestampAfterMaxMs != c.after {
			t.Errorf("%q: topic defaults %+v", c.props, td)
		}
	}
}

func TestListeners(t *testing.T) {
	cases := []struct {
		desc       string
		props      map[string]string
		listeners  []model.Endpoint
		advertised []model.Endpoint
	}{
		{"empty host binds all, advertises the host name", minimal("listeners", "PLAINTEXT://:9092"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Port: 9092, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: testHost, Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"IPv6 in brackets", minimal("listeners", "PLAINTEXT://[::1]:9092"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"IPv6 without brackets", minimal("listeners", "PLAINTEXT://fe80::1:9092"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "fe80::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "fe80::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"names are upper-cased; same port on IPv4 and IPv6", minimal(
			"listeners", "plaintext://127.0.0.1:9092, internal://[::1]:9092",
			"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,internal:plaintext"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, SecurityProtocol: "PLAINTEXT"},
				{Listener: "INTERNAL", Host: "::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, SecurityProtocol: "PLAINTEXT"},
				{Listener: "INTERNAL", Host: "::1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}},
		{"explicit advertised listeners, empty advertised host resolved", minimal(
			"listeners", "PLAINTEXT://0.0.0.0:9092,REPLICATION://:9093",
			"advertised.listeners", "REPLICATION://:9093,PLAINTEXT://public.example:19092",
			"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT",
			"inter.broker.listener.name", "replication"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "0.0.0.0", Port: 9092, SecurityProtocol: "PLAINTEXT"},
				{Listener: "REPLICATION", Port: 9093, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "REPLICATION", Host: testHost, Port: 9093, SecurityProtocol: "PLAINTEXT"},
				{Listener: "PLAINTEXT", Host: "public.example", Port: 19092, SecurityProtocol: "PLAINTEXT"}}},
		{"ephemeral ports may repeat", minimal(
			"listeners", "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
			"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT"),
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 0, SecurityProtocol: "PLAINTEXT"},
				{Listener: "INTERNAL", Host: "127.0.0.1", Port: 0, SecurityProtocol: "PLAINTEXT"}},
			[]model.Endpoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 0, SecurityProtocol: "PLAINTEXT"},
				{Listener: "INTERNAL", Host: "127.0.0.1", Port: 0, SecurityProtocol: "PLAINTEXT"}}},
	}
	for _, c := range cases {
		b, err := load(c.props)
		if err != nil {
			t.Errorf("%s: %v", c.desc, err)
			continue
		}
		if !reflect.DeepEqual(b.Listeners, c.listeners) {
			t.Errorf("%s: Listeners = %+v", c.desc, b.Listeners)
		}
		if !reflect.DeepEqual(b.AdvertisedListeners, c.advertised) {
			t.Errorf("%s: AdvertisedListeners = %+v", c.desc, b.AdvertisedListeners)
		}
	}

	b := mustLoad(t, minimal("listeners", "PLAINTEXT://127.0.0.1:0,INTERNAL://[::1]:0",
		"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT"))
	got := b.AdvertisedEndpoints(map[string]int32{"PLAINTEXT": 40001, "INTERNAL": 40002})
	if got[0].Port != 40001 || got[1].Port != 40002 || b.AdvertisedListeners[0].Port != 0 {
		t.Errorf("AdvertisedEndpoints = %+v", got)
	}
	if s := EndpointString(got[1]); s != "INTERNAL://[::1]:40002" {
		t.Errorf("EndpointString = %q", s)
	}
	if s := HostPort(b.Listeners[0]); s != "127.0.0.1:0" {
		t.Errorf("HostPort = %q", s)
	}
	if s := HostPort(model.Endpoint{Port: 9092}); s != ":9092" {
		t.Errorf("HostPort(all interfaces) = %q", s)
	}

	// The host name is only looked up when needed, and a failure is reported.
	_, err := Load(Options{Properties: minimal(), IgnoreEnv: true,
		Hostname: func() (string, error) { return "", errors.New("no name") }})
	if ps := problemsOf(t, err); len(ps) != 1 || !strings.Contains(ps[0].Reason, "host name is unknown") {
		t.Errorf("hostname failure: %v", err)
	}
	_, err = Load(Options{Properties: minimal("listeners", "PLAINTEXT://localhost:9092"), IgnoreEnv: true,
		Hostname: func() (string, error) { t.Error("Hostname called"); return "", nil }})
	if err != nil {
		t.Error(err)
	}
}

func TestCanonicalHostname(t *testing.T) {
	h, err := CanonicalHostname()
	if err != nil || h == "" {
		t.Fatalf("CanonicalHostname = %q, %v", h, err)
	}
}

func TestZooKeeperConnect(t *testing.T) {
	cases := []struct {
		in      string
		servers []string
		chroot  string
		err     bool
	}{
		{"localhost:2181", []string{"localhost:2181"}, "", false},
		{"zk", []string{"zk:2181"}, "", false},
		{"a:1,b:2/kafka", []string{"a:1", "b:2"}, "/kafka", false},
		{"a:1/", []string{"a:1"}, "", false},
		{"a:1/x/y", []string{"a:1"}, "/x/y", false},
		{"[::1]:2181,[fe80::2]", []string{"[::1]:2181", "[fe80::2]:2181"}, "", false},
		{"a:0", nil, "", true},
		{"a:1/x/../y", nil, "", true},
		{":2181", nil, "", true},
		{"[::1", nil, "", true},
	}
	for _, c := range cases {
		servers, chroot, err := parseZKConnect(c.in)
		if (err != nil) != c.err || (!c.err && (!reflect.DeepEqual(servers, c.servers) || chroot != c.chroot)) {
			t.Errorf("parseZKConnect(%q) = %q, %q, %v", c.in, servers, chroot, err)
		}
	}
}

func TestSetBrokerID(t *testing.T) {
	b := mustLoad(t, minimal())
	c := b
	c.SetBrokerID(1001)
	if c.BrokerID != 1001 || b.BrokerID != -1 {
		t.Fatalf("BrokerID = %d/%d", c.BrokerID, b.BrokerID)
	}
	if v, _ := b.Value("broker.id"); v != int32(-1) {
		t.Errorf("original copy changed: %v", v)
	}
	for _, e := range DescribeBrokerConfigs(c) {
		if e.Name == "broker.id" && *e.Value != "1001" {
			t.Errorf("described broker.id = %s", *e.Value)
		}
	}
}
