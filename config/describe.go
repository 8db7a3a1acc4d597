package config

import (
	"sort"
)

// ConfigSource says where a described value comes from. The numbers are
// Kafka's DescribeConfigs ConfigSource codes.
type ConfigSource int8

// Config sources.
const (
	SourceUnknown ConfigSource = 0
	// SourceTopic is DYNAMIC_TOPIC_CONFIG (Kafka's TOPIC_CONFIG): a topic
	// override from /config/topics/<topic>.
	SourceTopic                ConfigSource = 1
	SourceDynamicBroker        ConfigSource = 2
	SourceDynamicDefaultBroker ConfigSource = 3
	// SourceStaticBroker is a setting given to this broker at startup (file,
	// environment or --override).
	SourceStaticBroker        ConfigSource = 4
	SourceDefault             ConfigSource = 5
	SourceDynamicBrokerLogger ConfigSource = 6
)

func (s ConfigSource) String() string {
	switch s {
	case SourceTopic:
		return "DYNAMIC_TOPIC_CONFIG"
	case SourceDynamicBroker:
		return "DYNAMIC_BROKER_CONFIG"
	case SourceDynamicDefaultBroker:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case SourceStaticBroker:
		return "STATIC_BROKER_CONFIG"
	case SourceDefault:
		return "DEFAULT_CONFIG"
	case SourceDynamicBrokerLogger:
		return "DYNAMIC_BROKER_LOGGER_CONFIG"
	}
	return "UNKNOWN"
}

// ConfigSynonym is one value that took part in resolving a described
// setting, highest priority first.
type ConfigSynonym struct {
	Name   string
	Value  *string // nil for sensitive settings
	Source ConfigSource
}

// ConfigEntry is one described setting (a DescribeConfigs result entry;
// documentation is always null).
type ConfigEntry struct {
	Name      string
	Value     *string // nil when unset or sensitive
	Source    ConfigSource
	ReadOnly  bool
	Sensitive bool
	Type      Type
	// Synonyms are in Kafka's order: topic override, then the broker's
	// dynamic, static and default values of the synonym settings.
	Synonyms []ConfigSynonym
}

// IsDefault is the v0 isDefault flag: the value is Kafka's default.
func (e ConfigEntry) IsDefault() bool { return e.Source == SourceDefault }

// DescribeTopicConfigs describes every topic setting of a topic whose
// overrides (/config/topics/<topic>) are given, as a Kafka 3.9 ZooKeeper-mode
// broker does, sorted by name. Overridden settings have source
// DYNAMIC_TOPIC_CONFIG and the normalised override value; the others take
// the source of their first broker synonym (STATIC_BROKER_CONFIG or
// DEFAULT_CONFIG). Unknown or invalid overrides are left out.
//
// Synonyms follow Kafka's rule exactly, including its quirk: the broker
// synonyms of a setting are listed source by source, and those before the
// first one named like the primary synonym are dropped. So when only
// log.retention.hours is set, retention.ms has no synonyms and source
// DEFAULT_CONFIG (its value is still the one computed from
// log.retention.hours).
func DescribeTopicConfigs(broker Broker, overrides map[string]string) []ConfigEntry {
	values, _ := resolveTopic(&broker, overrides, false)
	entries := make([]ConfigEntry, 0, len(topicSettings))
	for _, s := range topicSettings {
		e := ConfigEntry{
			Name:      s.name,
			Value:     formatValue(values[s.name]),
			Sensitive: s.sensitive(),
			Type:      s.typ,
		}
		if e.Sensitive {
			e.Value = nil
		}
		if text, ok := overrides[s.name]; ok {
			if v, reason := s.parse(text); reason == "" && (s.reject == nil || s.reject(v) == "") {
				e.Synonyms = append(e.Synonyms, ConfigSynonym{Name: s.name, Value: e.Value, Source: SourceTopic})
			}
		}
		if len(s.synonyms) > 0 {
			primary := s.synonyms[0]
			e.Synonyms = append(e.Synonyms, broker.configSynonyms(primary, brokerSynonymGroup(primary), e.Sensitive)...)
		}
		e.Source = SourceDefault
		if len(e.Synonyms) > 0 {
			e.Source = e.Synonyms[0].Source
		}
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries
}

// DescribeBrokerConfigs describes every broker setting kbroker knows, as a
// Kafka 3.9 broker describes itself, sorted by name: the value (nil when
// unset or sensitive), STATIC_BROKER_CONFIG for settings given at startup,
// DEFAULT_CONFIG otherwise, readOnly for the settings Kafka cannot change
// dynamically, and Kafka's synonyms (e.g. log.retention.ms lists
// log.retention.minutes and log.retention.hours).
func DescribeBrokerConfigs(broker Broker) []ConfigEntry {
	entries := make([]ConfigEntry, 0, len(brokerRegistry.defs))
	for _, d := range brokerRegistry.defs {
		e := ConfigEntry{
			Name:      d.name,
			Sensitive: d.sensitive(),
			ReadOnly:  !d.dynamic,
			Type:      d.typ,
		}
		if !e.Sensitive {
			e.Value = formatValue(broker.value(d))
		}
		e.Synonyms = broker.configSynonyms(d.name, brokerSynonymGroup(d.name), e.Sensitive)
		e.Source = SourceDefault
		if len(e.Synonyms) > 0 {
			e.Source = e.Synonyms[0].Source
		}
		entries = append(entries, e)
	}
	sortEntries(entries)
	return entries
}

func sortEntries(entries []ConfigEntry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
}

// value returns the parsed value of a broker setting; a zero Broker has the
// defaults.
func (b Broker) value(d *def) any {
	if b.values == nil {
		return d.defaultValue
	}
	return b.values[d.name]
}

// brokerSynonymGroup is Kafka's DynamicBrokerConfig.brokerConfigSynonyms:
// the broker settings that resolve one another, highest priority first.
func brokerSynonymGroup(name string) []string {
	switch name {
	case "log.roll.ms", "log.roll.hours":
		return []string{"log.roll.ms", "log.roll.hours"}
	case "log.roll.jitter.ms", "log.roll.jitter.hours":
		return []string{"log.roll.jitter.ms", "log.roll.jitter.hours"}
	case "log.flush.interval.ms":
		return []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}
	case "log.retention.ms", "log.retention.minutes", "log.retention.hours":
		return []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}
	}
	return []string{name}
}

// configSynonyms lists the values of the settings in group, source by source
// (static settings, then defaults; kbroker has no dynamic broker configs),
// and drops the entries before the first one named name, as Kafka does.
func (b Broker) configSynonyms(name string, group []string, sensitive bool) []ConfigSynonym {
	var out []ConfigSynonym
	for _, n := range group {
		if text, ok := b.explicit[n]; ok {
			s := ConfigSynonym{Name: n, Source: SourceStaticBroker}
			if !sensitive {
				t := text
				s.Value = &t
			}
			out = append(out, s)
		}
	}
	for _, n := range group {
		d, ok := brokerRegistry.get(n)
		if !ok || !d.hasDefault() {
			continue
		}
		s := ConfigSynonym{Name: n, Source: SourceDefault}
		if !sensitive {
			s.Value = formatValue(d.defaultValue)
		}
		out = append(out, s)
	}
	for i, s := range out {
		if s.Name == name {
			return out[i:]
		}
	}
	return nil
}
