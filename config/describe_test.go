package config

import (
	"reflect"
	"sort"
	"testing"
)

func strp(s string) *string { return &s }

func entryMap(t *testing.T, entries []ConfigEntry) map[string]ConfigEntry {
	t.Helper()
	if !sort.SliceIsSorted(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name }) {
		t.Error("entries are not sorted by name")
	}
	m := make(map[string]ConfigEntry, len(entries))
	for _, e := range entries {
		if _, dup := m[e.Name]; dup {
			t.Errorf("duplicate entry %s", e.Name)
		}
		m[e.Name] = e
	}
	return m
}

func checkEntry(t *testing.T, m map[string]ConfigEntry, want ConfigEntry) {
	t.Helper()
	got, ok := m[want.Name]
	if !ok {
		t.Errorf("no entry %s", want.Name)
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", want.Name, describeEntry(got), describeEntry(want))
	}
}

func describeEntry(e ConfigEntry) string {
	s := e.Name + "=" + deref(e.Value) + " source=" + e.Source.String()
	if e.ReadOnly {
		s += " readOnly"
	}
	if e.Sensitive {
		s += " sensitive"
	}
	s += " type=" + e.Type.String() + " synonyms={"
	for i, syn := range e.Synonyms {
		if i > 0 {
			s += ", "
		}
		s += syn.Source.String() + ":" + syn.Name + "=" + deref(syn.Value)
	}
	return s + "}"
}

func deref(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func TestDescribeTopicConfigs(t *testing.T) {
	b := mustLoad(t, minimal(
		"log.retention.hours", "24",
		"log.segment.bytes", "536870912",
		"log.roll.ms", "3600000",
		"message.max.bytes", "2000",
	))
	entries := DescribeTopicConfigs(b, map[string]string{
		"cleanup.policy":      "compact",
		"max.message.bytes":   " 3000 ",
		"segment.index.bytes": "x", // invalid: left out as an override
	})
	if len(entries) != len(TopicConfigNames()) {
		t.Fatalf("%d entries, want %d", len(entries), len(TopicConfigNames()))
	}
	m := entryMap(t, entries)
	for _, want := range []ConfigEntry{
		{Name: "cleanup.policy", Value: strp("compact"), Source: SourceTopic, Type: TypeList, Synonyms: []ConfigSynonym{
			{Name: "cleanup.policy", Value: strp("compact"), Source: SourceTopic},
			{Name: "log.cleanup.policy", Value: strp("delete"), Source: SourceDefault},
		}},
		// Override normalised; then the broker's static and default values.
		{Name: "max.message.bytes", Value: strp("3000"), Source: SourceTopic, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "max.message.bytes", Value: strp("3000"), Source: SourceTopic},
			{Name: "message.max.bytes", Value: strp("2000"), Source: SourceStaticBroker},
			{Name: "message.max.bytes", Value: strp("1048588"), Source: SourceDefault},
		}},
		{Name: "segment.bytes", Value: strp("536870912"), Source: SourceStaticBroker, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "log.segment.bytes", Value: strp("536870912"), Source: SourceStaticBroker},
			{Name: "log.segment.bytes", Value: strp("1073741824"), Source: SourceDefault},
		}},
		{Name: "segment.index.bytes", Value: strp("10485760"), Source: SourceDefault, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "log.index.size.max.bytes", Value: strp("10485760"), Source: SourceDefault},
		}},
		// log.roll.ms is the primary synonym: it and the lower-priority
		// log.roll.hours default are listed.
		{Name: "segment.ms", Value: strp("3600000"), Source: SourceStaticBroker, Type: TypeLong, Synonyms: []ConfigSynonym{
			{Name: "log.roll.ms", Value: strp("3600000"), Source: SourceStaticBroker},
			{Name: "log.roll.hours", Value: strp("168"), Source: SourceDefault},
		}},
		// Kafka's quirk: only log.retention.hours is set, so the synonyms
		// before the first log.retention.ms entry (all of them) are dropped.
		{Name: "retention.ms", Value: strp("86400000"), Source: SourceDefault, Type: TypeLong},
		{Name: "flush.ms", Value: strp("9223372036854775807"), Source: SourceDefault, Type: TypeLong},
		{Name: "remote.storage.enable", Value: strp("false"), Source: SourceDefault, Type: TypeBoolean},
		{Name: "min.cleanable.dirty.ratio", Value: strp("0.5"), Source: SourceDefault, Type: TypeDouble, Synonyms: []ConfigSynonym{
			{Name: "log.cleaner.min.cleanable.ratio", Value: strp("0.5"), Source: SourceDefault},
		}},
		{Name: "leader.replication.throttled.replicas", Value: strp(""), Source: SourceDefault, Type: TypeList},
	} {
		checkEntry(t, m, want)
	}
	for _, e := range entries {
		if e.ReadOnly || e.Sensitive {
			t.Errorf("%s: readOnly=%v sensitive=%v", e.Name, e.ReadOnly, e.Sensitive)
		}
		if e.Value == nil {
			t.Errorf("%s has a null value", e.Name)
		}
		if e.IsDefault() != (e.Source == SourceDefault) {
			t.Errorf("%s: IsDefault wrong", e.Name)
		}
	}
}

func TestDescribeTopicRetentionSynonyms(t *testing.T) {
	b := mustLoad(t, minimal("log.retention.ms", "1000", "log.retention.hours", "24"))
	m := entryMap(t, DescribeTopicConfigs(b, nil))
	checkEntry(t, m, ConfigEntry{Name: "retention.ms", Value: strp("1000"), Source: SourceStaticBroker, Type: TypeLong,
		Synonyms: []ConfigSynonym{
			{Name: "log.retention.ms", Value: strp("1000"), Source: SourceStaticBroker},
			{Name: "log.retention.hours", Value: strp("24"), Source: SourceStaticBroker},
			{Name: "log.retention.hours", Value: strp("168"), Source: SourceDefault},
		}})

	m = entryMap(t, DescribeTopicConfigs(b, map[string]string{"retention.ms": "-1"}))
	checkEntry(t, m, ConfigEntry{Name: "retention.ms", Value: strp("-1"), Source: SourceTopic, Type: TypeLong,
		Synonyms: []ConfigSynonym{
			{Name: "retention.ms", Value: strp("-1"), Source: SourceTopic},
			{Name: "log.retention.ms", Value: strp("1000"), Source: SourceStaticBroker},
			{Name: "log.retention.hours", Value: strp("24"), Source: SourceStaticBroker},
			{Name: "log.retention.hours", Value: strp("168"), Source: SourceDefault},
		}})
}

func TestDescribeBrokerConfigs(t *testing.T) {
	b := mustLoad(t, minimal(
		"num.partitions", " 3 ",
		"log.retention.hours", "24",
		"password.encoder.secret", "s3cret",
		"broker.rack", "r1",
	))
	entries := DescribeBrokerConfigs(b)
	if len(entries) != len(BrokerConfigNames()) {
		t.Fatalf("%d entries, want %d", len(entries), len(BrokerConfigNames()))
	}
	m := entryMap(t, entries)
	for _, want := range []ConfigEntry{
		// Static value as written in the synonym, parsed in the value.
		{Name: "num.partitions", Value: strp("3"), Source: SourceStaticBroker, ReadOnly: true, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "num.partitions", Value: strp(" 3 "), Source: SourceStaticBroker},
			{Name: "num.partitions", Value: strp("1"), Source: SourceDefault},
		}},
		{Name: "log.retention.hours", Value: strp("24"), Source: SourceStaticBroker, ReadOnly: true, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "log.retention.hours", Value: strp("24"), Source: SourceStaticBroker},
			{Name: "log.retention.hours", Value: strp("168"), Source: SourceDefault},
		}},
		// Unset, null default, dynamically updatable in Kafka.
		{Name: "log.retention.ms", Source: SourceDefault, Type: TypeLong},
		// Same quirk as retention.ms: nothing named log.retention.minutes.
		{Name: "log.retention.minutes", Source: SourceDefault, ReadOnly: true, Type: TypeInt},
		{Name: "message.max.bytes", Value: strp("1048588"), Source: SourceDefault, Type: TypeInt, Synonyms: []ConfigSynonym{
			{Name: "message.max.bytes", Value: strp("1048588"), Source: SourceDefault},
		}},
		{Name: "zookeeper.connect", Value: strp("localhost:2181"), Source: SourceStaticBroker, ReadOnly: true, Type: TypeString, Synonyms: []ConfigSynonym{
			{Name: "zookeeper.connect", Value: strp("localhost:2181"), Source: SourceStaticBroker},
		}},
		{Name: "advertised.listeners", Source: SourceDefault, Type: TypeString},
		{Name: "listeners", Value: strp("PLAINTEXT://:9092"), Source: SourceDefault, Type: TypeString, Synonyms: []ConfigSynonym{
			{Name: "listeners", Value: strp("PLAINTEXT://:9092"), Source: SourceDefault},
		}},
		{Name: "broker.rack", Value: strp("r1"), Source: SourceStaticBroker, ReadOnly: true, Type: TypeString, Synonyms: []ConfigSynonym{
			{Name: "broker.rack", Value: strp("r1"), Source: SourceStaticBroker},
		}},
		// Sensitive: null everywhere.
		{Name: "password.encoder.secret", Source: SourceStaticBroker, ReadOnly: true, Sensitive: true, Type: TypePassword, Synonyms: []ConfigSynonym{
			{Name: "password.encoder.secret", Source: SourceStaticBroker},
		}},
		{Name: "log.cleaner.io.max.bytes.per.second", Value: strp("1.7976931348623157E308"), Source: SourceDefault, Type: TypeDouble, Synonyms: []ConfigSynonym{
			{Name: "log.cleaner.io.max.bytes.per.second", Value: strp("1.7976931348623157E308"), Source: SourceDefault},
		}},
		{Name: "log.cleanup.policy", Value: strp("delete"), Source: SourceDefault, Type: TypeList, Synonyms: []ConfigSynonym{
			{Name: "log.cleanup.policy", Value: strp("delete"), Source: SourceDefault},
		}},
		{Name: "offsets.topic.replication.factor", Value: strp("3"), Source: SourceDefault, ReadOnly: true, Type: TypeShort, Synonyms: []ConfigSynonym{
			{Name: "offsets.topic.replication.factor", Value: strp("3"), Source: SourceDefault},
		}},
		// log.flush.interval.ms lists the scheduler interval; not the reverse.
		{Name: "log.flush.interval.ms", Source: SourceDefault, Type: TypeLong},
		{Name: "log.flush.scheduler.interval.ms", Value: strp("9223372036854775807"), Source: SourceDefault, ReadOnly: true, Type: TypeLong, Synonyms: []ConfigSynonym{
			{Name: "log.flush.scheduler.interval.ms", Value: strp("9223372036854775807"), Source: SourceDefault},
		}},
	} {
		checkEntry(t, m, want)
	}
}

func TestDescribeZeroBroker(t *testing.T) {
	for _, e := range DescribeBrokerConfigs(Broker{}) {
		if e.Source != SourceDefault {
			t.Errorf("%s: source %v", e.Name, e.Source)
		}
	}
	for _, e := range DescribeTopicConfigs(Broker{}, nil) {
		if e.Source != SourceDefault || e.Value == nil {
			t.Errorf("%s: %s", e.Name, describeEntry(e))
		}
	}
}

func TestConfigSourceAndTypeNames(t *testing.T) {
	sources := map[ConfigSource]string{
		SourceUnknown: "UNKNOWN", SourceTopic: "DYNAMIC_TOPIC_CONFIG", SourceDynamicBroker: "DYNAMIC_BROKER_CONFIG",
		SourceDynamicDefaultBroker: "DYNAMIC_DEFAULT_BROKER_CONFIG", SourceStaticBroker: "STATIC_BROKER_CONFIG",
		SourceDefault: "DEFAULT_CONFIG", SourceDynamicBrokerLogger: "DYNAMIC_BROKER_LOGGER_CONFIG",
	}
	for s, name := range sources {
		if s.String() != name {
			t.Errorf("%d.String() = %s", s, s.String())
		}
	}
	// Wire codes.
	if SourceTopic != 1 || SourceStaticBroker != 4 || SourceDefault != 5 || TypeList != 7 || TypePassword != 9 {
		t.Error("wire codes changed")
	}
	types := map[Type]string{TypeUnknown: "UNKNOWN", TypeBoolean: "BOOLEAN", TypeString: "STRING", TypeInt: "INT",
		TypeShort: "SHORT", TypeLong: "LONG", TypeDouble: "DOUBLE", TypeList: "LIST", TypeClass: "CLASS", TypePassword: "PASSWORD"}
	for ty, name := range types {
		if ty.String() != name {
			t.Errorf("%d.String() = %s", ty, ty.String())
		}
	}
}
