package config

import (
	"math"
	"reflect"
	"sort"
	"testing"
)

// goType is the Go type a field holding a setting of type t must have.
func goType(t Type) reflect.Type {
	switch t {
	case TypeBoolean:
		return reflect.TypeOf(false)
	case TypeString, TypeClass, TypePassword:
		return reflect.TypeOf("")
	case TypeInt:
		return reflect.TypeOf(int32(0))
	case TypeShort:
		return reflect.TypeOf(int16(0))
	case TypeLong:
		return reflect.TypeOf(int64(0))
	case TypeDouble:
		return reflect.TypeOf(0.0)
	case TypeList:
		return reflect.TypeOf([]string(nil))
	}
	return nil
}

func checkTags(t *testing.T, typ reflect.Type, reg *registry) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name := f.Tag.Get("kafka")
		if name == "" {
			continue
		}
		d, ok := reg.get(name)
		if !ok {
			t.Errorf("%s.%s: tag %q is not a known setting", typ.Name(), f.Name, name)
			continue
		}
		if seen[name] {
			t.Errorf("%s: setting %s bound twice", typ.Name(), name)
		}
		seen[name] = true
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			if d.hasDefault() {
				t.Errorf("%s.%s: pointer field for %s, which has a default", typ.Name(), f.Name, name)
			}
			ft = ft.Elem()
		} else if !d.hasDefault() && name != "zookeeper.connect" { // required: never nil after Load
			t.Errorf("%s.%s: %s has a null default; use a pointer field", typ.Name(), f.Name, name)
		}
		if ft != goType(d.typ) {
			t.Errorf("%s.%s: %s is %s, field is %s", typ.Name(), f.Name, name, d.typ, ft)
		}
	}
	return seen
}

func TestStructTagsMatchDefinitions(t *testing.T) {
	checkTags(t, reflect.TypeOf(Broker{}), brokerRegistry)
	seen := checkTags(t, reflect.TypeOf(TopicConfig{}), topicRegistry)
	for _, name := range TopicConfigNames() {
		if !seen[name] {
			t.Errorf("TopicConfig has no field for %s", name)
		}
	}
	for _, name := range computedSettings {
		if _, ok := brokerRegistry.get(name); !ok {
			t.Errorf("computed setting %s is not defined", name)
		}
	}
}

func TestTopicSynonymsAreBrokerSettings(t *testing.T) {
	derived := map[string]bool{"segment.ms": true, "segment.jitter.ms": true, "retention.ms": true, "flush.ms": true,
		"message.timestamp.before.max.ms": true, "message.timestamp.after.max.ms": true}
	b := mustLoad(t, minimal())
	for _, s := range topicSettings {
		for i, name := range s.synonyms {
			d, ok := brokerRegistry.get(name)
			if !ok {
				t.Errorf("%s: synonym %s is not a broker setting", s.name, name)
				continue
			}
			if i == 0 && !derived[s.name] && d.typ != s.typ {
				t.Errorf("%s (%s): synonym %s is %s", s.name, s.typ, name, d.typ)
			}
			if !d.used {
				t.Errorf("synonym %s not marked used", name)
			}
		}
		// Every broker-derived default has the topic setting's Go type.
		if v, ok := b.topicDefaults[s.name]; ok && reflect.TypeOf(v) != goType(s.typ) {
			t.Errorf("%s: broker-derived value %T, want %s", s.name, v, goType(s.typ))
		}
		// The broker default equals the topic default (Kafka keeps them equal).
		if v, ok := b.topicDefaults[s.name]; ok && !reflect.DeepEqual(v, s.defaultValue) {
			t.Errorf("%s: broker-derived default %v != topic default %v", s.name, v, s.defaultValue)
		}
	}
}

func TestDefinitionTables(t *testing.T) {
	names := BrokerConfigNames()
	if !sort.StringsAreSorted(names) || len(names) != len(brokerDefs) {
		t.Error("BrokerConfigNames wrong")
	}
	for _, d := range brokerDefs {
		if d.typ == TypeUnknown {
			t.Errorf("%s has no type", d.name)
		}
		if d.hasDefault() && d.reject != nil && d.reject(d.defaultValue) != "" {
			t.Errorf("%s: its default is rejected", d.name)
		}
	}
	used := map[string]bool{"log.retention.hours": true, "num.partitions": true, "listeners": true,
		"log.cleaner.min.cleanable.ratio": true, "num.network.threads": false, "num.io.threads": false,
		"metrics.num.samples": false, "inter.broker.protocol.version": false}
	for name, want := range used {
		d, _ := brokerRegistry.get(name)
		if d.used != want {
			t.Errorf("%s: used = %v, want %v", name, d.used, want)
		}
	}
	dynamic := map[string]bool{"log.retention.ms": true, "log.retention.hours": false, "log.roll.ms": true,
		"log.roll.hours": false, "message.max.bytes": true, "zookeeper.connect": false, "broker.id": false,
		"num.io.threads": true, "advertised.listeners": true, "log.flush.scheduler.interval.ms": false}
	for name, want := range dynamic {
		d, _ := brokerRegistry.get(name)
		if d.dynamic != want {
			t.Errorf("%s: dynamic = %v, want %v", name, d.dynamic, want)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	cases := map[float64]string{
		0: "0.0", 0.5: "0.5", 0.9: "0.9", 1: "1.0", -2.5: "-2.5", 123456.789: "123456.789",
		1e7: "1.0E7", 1.5e10: "1.5E10", 0.001: "0.001", 0.0001: "1.0E-4",
		math.MaxFloat64: "1.7976931348623157E308", math.Inf(1): "Infinity", math.NaN(): "NaN",
	}
	for f, want := range cases {
		if got := javaDouble(f); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestMetadataVersionValidator(t *testing.T) {
	for _, v := range []string{"3.9", "3.9-IV0", "3.0-IV1", "2.8", "2.8.1", "0.10.2", "0.10.2-IV0", "0.8.0", "1.1"} {
		if r := metadataVersion(v); r != "" {
			t.Errorf("%s rejected: %s", v, r)
		}
	}
	for _, v := range []string{"", "4.0", "9.9", "3", "3.9-IVx", "3.9-XX0", "0.7.0", "abc"} {
		if metadataVersion(v) == "" {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b string
		d    int
	}{
		{"num.partitions", "num.partitions", 0},
		{"num.partition", "num.partitions", 1},
		{"num.partitoins", "num.partitions", 2},
		{"abc", "xyz", 3},
		{"a", "abcdef", 3},
	}
	for _, c := range cases {
		if got := editDistance(c.a, c.b, 3); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestParseValue(t *testing.T) {
	cases := []struct {
		t      Type
		in     string
		want   any
		reason string
	}{
		{TypeBoolean, " True ", true, ""},
		{TypeBoolean, "1", nil, "Expected value to be either true or false"},
		{TypeInt, "+5", int32(5), ""},
		{TypeInt, "2147483648", nil, "Not a number of type INT"},
		{TypeShort, "-32768", int16(-32768), ""},
		{TypeLong, "9223372036854775807", int64(math.MaxInt64), ""},
		{TypeLong, "1_000", nil, "Not a number of type LONG"},
		{TypeDouble, "1e3", 1000.0, ""},
		{TypeList, "", []string{}, ""},
		{TypeList, "a, b ,c", []string{"a", "b", "c"}, ""},
		{TypeList, "a,,b", []string{"a", "", "b"}, ""},
		{TypeString, "\t x y \n", "x y", ""},
	}
	for _, c := range cases {
		got, reason := parseValue(c.t, c.in)
		if reason != c.reason || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseValue(%s, %q) = %#v, %q; want %#v, %q", c.t, c.in, got, reason, c.want, c.reason)
		}
	}
}
