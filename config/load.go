package config

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/viper"

	"github.com/kbroker/kbroker/model"
)

// EnvPrefix starts every environment variable that sets a broker setting:
// KBROKER_ + the setting name upper-cased with dots turned into underscores
// (log.retention.hours ↔ KBROKER_LOG_RETENTION_HOURS). Every variable with
// this prefix must name a known setting.
const EnvPrefix = "KBROKER_"

// EnvVar returns the environment variable that sets a broker setting.
func EnvVar(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
}

// envName maps an environment variable back to a setting name.
func envName(variable string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(variable, EnvPrefix), "_", "."))
}

// Options says where Load reads the broker configuration from. Precedence,
// lowest first: Kafka's defaults < File < Properties < environment
// (KBROKER_*) < Overrides.
type Options struct {
	// File is the path of a Kafka-style server.properties; "" for none.
	File string
	// Properties are settings applied over the file, as if they were in it
	// (for in-process brokers in tests and tools).
	Properties map[string]string
	// Overrides are the "name=value" arguments of --override.
	Overrides []string
	// IgnoreEnv skips the KBROKER_* environment variables (in-process test
	// brokers should not see the developer's environment).
	IgnoreEnv bool
	// Hostname returns the host name advertised for listeners with an empty
	// host. Nil means CanonicalHostname.
	Hostname func() (string, error)
}

// SettingError is one rejected setting.
type SettingError struct {
	Name   string
	Value  string // as written; "" when the problem is a missing setting
	Origin string // where it was set (see Broker.Origin); "" for defaults
	// Unknown is true when Name is not a setting kbroker accepts.
	Unknown bool
	Reason  string
}

func (e *SettingError) Error() string {
	var msg string
	switch {
	case e.Unknown:
		msg = fmt.Sprintf("unknown configuration %q", e.Name)
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
	case e.Value == "" && e.Origin == "":
		msg = e.Reason
	default:
		msg = fmt.Sprintf("Invalid value %s for configuration %s: %s", quoteIfEmpty(e.Value), e.Name, e.Reason)
	}
	if e.Origin != "" {
		msg += " (set by " + e.Origin + ")"
	}
	return msg
}

// LoadError lists every problem found in a configuration.
type LoadError struct {
	Problems []*SettingError
}

func (e *LoadError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid broker configuration: " + e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid broker configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap exposes the individual problems to errors.Is/As.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}

// Load reads, merges and validates the broker configuration. Every unknown
// name and invalid value is reported (a *LoadError); I/O and syntax errors of
// the file are returned as they are.
func Load(opts Options) (Broker, error) {
	codec := &propertiesCodec{}
	reg := viper.NewCodecRegistry()
	if err := reg.RegisterCodec("properties", codec); err != nil {
		return Broker{}, err
	}
	// Names contain dots: a delimiter that never occurs keeps them flat.
	v := viper.NewWithOptions(viper.KeyDelimiter("\x00"), viper.WithCodecRegistry(reg))
	v.SetConfigType("properties")

	explicit := map[string]bool{} // names as written, exact case
	origins := map[string]string{}
	var problems []*SettingError
	unknown := func(name, value, origin string) {
		problems = append(problems, &SettingError{Name: name, Value: value, Origin: origin,
			Unknown: true, Reason: unknownHint(name, brokerRegistry)})
	}
	accept := func(name, value, origin string) bool {
		if !knownName(brokerRegistry, name) {
			unknown(name, value, origin)
			return false
		}
		explicit[name] = true
		origins[name] = origin
		return true
	}

	if opts.File != "" {
		data, err := os.ReadFile(opts.File)
		if err != nil {
			return Broker{}, fmt.Errorf("config: %w", err)
		}
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return Broker{}, fmt.Errorf("config: %s: %w", opts.File, err)
		}
		for _, p := range codec.props {
			accept(p.Key, p.Value, fmt.Sprintf("%s:%d", opts.File, p.Line))
		}
	}

	if len(opts.Properties) > 0 {
		m := make(map[string]any, len(opts.Properties))
		for _, name := range sortedKeys(opts.Properties) {
			if accept(name, opts.Properties[name], "properties") {
				m[name] = opts.Properties[name]
			}
		}
		if err := v.MergeConfigMap(m); err != nil {
			return Broker{}, fmt.Errorf("config: %w", err)
		}
	}

	if !opts.IgnoreEnv {
		environ := os.Environ()
		sort.Strings(environ)
		for _, kv := range environ {
			key, value, _ := strings.Cut(kv, "=")
			if !strings.HasPrefix(key, EnvPrefix) || value == "" {
				continue // an empty variable counts as unset
			}
			name := envName(key)
			if accept(name, value, "environment variable "+key) {
				if err := v.BindEnv(name, key); err != nil {
					return Broker{}, fmt.Errorf("config: %w", err)
				}
			}
		}
	}

	for _, o := range opts.Overrides {
		name, value, ok := strings.Cut(o, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			problems = append(problems, &SettingError{Name: o, Origin: "--override",
				Reason: fmt.Sprintf("--override %q is not of the form name=value", o)})
			continue
		}
		if accept(name, value, "--override") {
			v.Set(name, value)
		}
	}

	raw := make(map[string]string, len(explicit))
	for name := range explicit {
		raw[name] = v.GetString(name)
	}
	if len(problems) > 0 {
		return Broker{}, &LoadError{Problems: problems}
	}
	hostname := opts.Hostname
	if hostname == nil {
		hostname = CanonicalHostname
	}
	b, problems := build(raw, origins, hostname)
	if len(problems) > 0 {
		return Broker{}, &LoadError{Problems: problems}
	}
	return b, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CanonicalHostname returns the machine's canonical host name as Java's
// InetAddress.getLocalHost().getCanonicalHostName() does: the host name is
// resolved and its first address reverse-resolved. When resolution fails it
// falls back to the address, then to the plain host name.
func CanonicalHostname() (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", err
	}
	addrs, err := net.LookupHost(h)
	if err != nil || len(addrs) == 0 {
		return h, nil
	}
	names, err := net.LookupAddr(addrs[0])
	if err != nil || len(names) == 0 {
		return addrs[0], nil
	}
	return strings.TrimSuffix(names[0], "."), nil
}

// build parses the explicit settings, fills the Broker and applies Kafka's
// cross-setting rules.
func build(raw, origins map[string]string, hostname func() (string, error)) (Broker, []*SettingError) {
	var problems []*SettingError
	add := func(name, reason string) {
		problems = append(problems, &SettingError{Name: name, Value: raw[name], Origin: origins[name], Reason: reason})
	}

	values := make(map[string]any, len(brokerRegistry.defs))
	for _, d := range brokerRegistry.defs {
		text, ok := raw[d.name]
		if !ok {
			values[d.name] = d.defaultValue
			continue
		}
		v, reason := d.parse(text)
		if reason == "" && d.reject != nil {
			reason = d.reject(v)
		}
		if reason != "" {
			add(d.name, reason)
			values[d.name] = d.defaultValue
			continue
		}
		values[d.name] = v
	}
	if len(problems) > 0 {
		return Broker{}, problems
	}

	b := Broker{values: values, explicit: raw, origins: origins}
	fillStruct(&b, values)

	// ZooKeeper.
	if b.ZooKeeperConnect == "" {
		problems = append(problems, &SettingError{Name: "zookeeper.connect", Origin: origins["zookeeper.connect"],
			Reason: "Missing required configuration `zookeeper.connect` which has no default value."})
	} else if _, _, err := parseZKConnect(b.ZooKeeperConnect); err != nil {
		add("zookeeper.connect", err.Error())
	}
	b.ZooKeeperConnectionTimeoutMs = b.ZooKeeperSessionTimeoutMs
	if v, ok := values["zookeeper.connection.timeout.ms"].(int32); ok {
		b.ZooKeeperConnectionTimeoutMs = v
	}

	// Broker id.
	if b.BrokerIDGenerationEnable {
		if b.BrokerID < -1 || b.BrokerID > b.ReservedBrokerMaxID {
			add("broker.id", "broker.id must be greater than or equal to -1 and not greater than reserved.broker.max.id")
		}
	} else if b.BrokerID < 0 {
		add("broker.id", "broker.id must be greater than or equal to 0")
	}

	// Log directories.
	dirsName := "log.dirs"
	dirs, ok := values["log.dirs"].(string)
	if !ok {
		dirsName, dirs = "log.dir", values["log.dir"].(string)
	}
	seen := map[string]bool{}
	for _, d := range parseCSV(dirs) {
		c := filepath.Clean(d)
		if seen[c] {
			add(dirsName, "duplicate log directory "+d)
		}
		seen[c] = true
		b.LogDirs = append(b.LogDirs, c)
	}
	if len(b.LogDirs) == 0 {
		add(dirsName, "At least one log directory must be defined via log.dirs or log.dir.")
	}

	// Time settings with ms/minutes/hours synonyms.
	const hour, minute = int64(3600_000), int64(60_000)
	b.LogRollMs = int64(values["log.roll.hours"].(int32)) * hour
	if v, ok := values["log.roll.ms"].(int64); ok {
		b.LogRollMs = v
	}
	if b.LogRollMs < 1 {
		add(firstSet(raw, "log.roll.ms", "log.roll.hours"), "log.roll.ms must be greater than or equal to 1")
	}
	b.LogRollJitterMs = int64(values["log.roll.jitter.hours"].(int32)) * hour
	if v, ok := values["log.roll.jitter.ms"].(int64); ok {
		b.LogRollJitterMs = v
	}
	if b.LogRollJitterMs < 0 {
		add(firstSet(raw, "log.roll.jitter.ms", "log.roll.jitter.hours"), "log.roll.jitter.ms must be greater than or equal to 0")
	}
	b.LogRetentionMs = retentionMs(values)
	if b.LogRetentionMs == 0 {
		add(firstSet(raw, "log.retention.ms", "log.retention.minutes", "log.retention.hours"),
			"log.retention.ms must be unlimited (-1) or, greater than or equal to 1")
	}
	b.LogFlushIntervalMs = b.LogFlushSchedulerIntervalMs
	if v, ok := values["log.flush.interval.ms"].(int64); ok {
		b.LogFlushIntervalMs = v
	}
	const longMaxValue = int64(^uint64(0) >> 1)
	diff := values["log.message.timestamp.difference.max.ms"].(int64)
	b.LogMessageTimestampBeforeMaxMs = values["log.message.timestamp.before.max.ms"].(int64)
	if b.LogMessageTimestampBeforeMaxMs == longMaxValue {
		b.LogMessageTimestampBeforeMaxMs = diff
	}
	b.LogMessageTimestampAfterMaxMs = values["log.message.timestamp.after.max.ms"].(int64)
	if b.LogMessageTimestampAfterMaxMs == longMaxValue {
		b.LogMessageTimestampAfterMaxMs = diff
	}
	if b.LogCleanerMinCompactionLagMs > b.LogCleanerMaxCompactionLagMs {
		add("log.cleaner.min.compaction.lag.ms", fmt.Sprintf(
			"conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)",
			b.LogCleanerMinCompactionLagMs, b.LogCleanerMaxCompactionLagMs))
	}

	// Listeners.
	problems = append(problems, b.buildListeners(raw, origins, hostname)...)

	// Other cross-setting rules of KafkaConfig.validateValues.
	if b.LogCleanerThreads > 0 && b.LogCleanerDedupeBufferSize/int64(b.LogCleanerThreads) <= 1024*1024 {
		add("log.cleaner.dedupe.buffer.size", "log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.")
	}
	if b.ReplicaFetchWaitMaxMs > b.ReplicaSocketTimeoutMs {
		add(firstSet(raw, "replica.fetch.wait.max.ms", "replica.socket.timeout.ms"),
			"replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts")
	}
	if int64(b.ReplicaFetchWaitMaxMs) > b.ReplicaLagTimeMaxMs {
		add(firstSet(raw, "replica.fetch.wait.max.ms", "replica.lag.time.max.ms"),
			"replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR")
	}
	if b.OffsetsCommitRequiredAcks < -1 || b.OffsetsCommitRequiredAcks > b.OffsetsTopicReplicationFactor {
		add(firstSet(raw, "offsets.commit.required.acks", "offsets.topic.replication.factor"),
			"offsets.commit.required.acks must be greater or equal -1 and less or equal to offsets.topic.replication.factor")
	}
	if q := values["queued.max.request.bytes"].(int64); q > 0 && q < int64(b.SocketRequestMaxBytes) {
		add("queued.max.request.bytes", "queued.max.request.bytes must be larger or equal to socket.request.max.bytes")
	}
	if b.MaxConnectionsPerIP == 0 && values["max.connections.per.ip.overrides"].(string) == "" {
		add("max.connections.per.ip", "max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set.")
	}

	if len(problems) > 0 {
		return Broker{}, problems
	}
	b.topicDefaults = brokerTopicDefaults(&b)
	return b, nil
}

// retentionMs is KafkaConfig.logRetentionTimeMillis: log.retention.ms, else
// log.retention.minutes, else log.retention.hours; negative means -1.
func retentionMs(values map[string]any) int64 {
	var ms int64
	if v, ok := values["log.retention.ms"].(int64); ok {
		ms = v
	} else if v, ok := values["log.retention.minutes"].(int32); ok {
		ms = int64(v) * 60_000
	} else {
		ms = int64(values["log.retention.hours"].(int32)) * 3600_000
	}
	if ms < 0 {
		return -1
	}
	return ms
}

// firstSet returns the first of names given explicitly, else the first name.
func firstSet(raw map[string]string, names ...string) string {
	for _, n := range names {
		if _, ok := raw[n]; ok {
			return n
		}
	}
	return names[0]
}

// buildListeners fills the listener fields (KafkaConfig's listeners,
// effectiveAdvertisedListeners and inter-broker listener rules).
func (b *Broker) buildListeners(raw, origins map[string]string, hostname func() (string, error)) []*SettingError {
	var problems []*SettingError
	add := func(name, reason string) {
		problems = append(problems, &SettingError{Name: name, Value: raw[name], Origin: origins[name], Reason: reason})
	}
	protocols, err := parseProtocolMap(b.values["listener.security.protocol.map"].(string))
	if err != nil {
		add("listener.security.protocol.map", err.Error())
		return problems
	}
	b.ListenerSecurityProtocolMap = protocols

	listeners, err := parseListeners(b.values["listeners"].(string), protocols, true)
	if err != nil {
		add("listeners", err.Error())
		return problems
	}
	for _, l := range listeners {
		if l.SecurityProtocol != "PLAINTEXT" {
			add("listeners", fmt.Sprintf("listener %s uses security protocol %s; kbroker supports PLAINTEXT only", l.Listener, l.SecurityProtocol))
		}
	}
	b.Listeners = listeners

	advName := "listeners"
	advertised := listeners
	if s, ok := b.values["advertised.listeners"].(string); ok {
		advName = "advertised.listeners"
		advertised, err = parseListeners(s, protocols, false)
		if err != nil {
			add("advertised.listeners", err.Error())
			return problems
		}
	}
	if len(advertised) == 0 {
		add(advName, "There must be at least one advertised listener.")
		return problems
	}
	names := map[string]bool{}
	for _, l := range listeners {
		names[l.Listener] = true
	}
	resolved := make([]model.Endpoint, 0, len(advertised))
	var host string
	for _, e := range advertised {
		if !names[e.Listener] {
			add("advertised.listeners", fmt.Sprintf(
				"advertised.listeners listener names must be equal to or a subset of the ones defined in listeners; %s is not in listeners", e.Listener))
		}
		if e.Host == "0.0.0.0" || e.Host == "::" {
			add(advName, fmt.Sprintf("advertised.listeners cannot use the nonroutable meta-address %s. Use a routable IP address.", e.Host))
		}
		if e.Host == "" {
			if host == "" {
				h, err := hostname()
				if err != nil || h == "" {
					add(advName, fmt.Sprintf("listener %s has no host and the machine's host name is unknown (%v); set advertised.listeners", e.Listener, err))
					continue
				}
				host = h
			}
			e.Host = host
		}
		resolved = append(resolved, e)
	}
	b.AdvertisedListeners = resolved

	// Inter-broker listener.
	if name, ok := b.values["inter.broker.listener.name"].(string); ok {
		if _, both := raw["security.inter.broker.protocol"]; both {
			add("inter.broker.listener.name", "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.")
			return problems
		}
		name = strings.ToUpper(name)
		proto, ok := protocols[name]
		if !ok {
			add("inter.broker.listener.name", fmt.Sprintf(
				"Listener with name %s defined in inter.broker.listener.name not found in listener.security.protocol.map.", name))
			return problems
		}
		b.InterBrokerListenerName, b.InterBrokerSecurityProtocol = name, proto
	} else {
		proto := b.values["security.inter.broker.protocol"].(string)
		b.InterBrokerListenerName, b.InterBrokerSecurityProtocol = proto, proto
	}
	found := false
	var valid []string
	for _, e := range advertised {
		valid = append(valid, e.Listener)
		found = found || e.Listener == b.InterBrokerListenerName
	}
	if !found {
		add(firstSet(raw, "inter.broker.listener.name", "security.inter.broker.protocol", advName), fmt.Sprintf(
			"inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are %s (the inter-broker listener is %s)",
			strings.Join(valid, ","), b.InterBrokerListenerName))
	}
	return problems
}
