package zkmeta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kbroker/kbroker/model"
)

// This file holds one codec per znode: MarshalX writes the compact JSON (or
// text) kbroker stores, with a fixed key order so the bytes are reproducible;
// ParseX reads it with encoding/json, ignores unknown keys and accepts the
// older versions real Kafka clusters may hold. Key order is not significant
// to Kafka's readers (kafka-zk-spec.md, conventions).

// FeatureRange is a supported version range of one feature (KIP-584), as
// registered in the "features" map of /brokers/ids/<id> v5.
type FeatureRange struct{ Min, Max int16 }

// BrokerRegistration is the content of /brokers/ids/<id> (§1.3.1).
type BrokerRegistration struct {
	ID model.BrokerID
	// Endpoints are the advertised listeners, in config order.
	Endpoints []model.Endpoint
	// Rack is broker.rack; nil when unset (the "rack" key is then omitted).
	Rack *string
	// JMXPort is written as jmx_port; -1 when JMX is off (0 is written as -1).
	JMXPort int32
	// Timestamp is the registration time in ms, written as a decimal string.
	// RegisterBroker fills it with the current time when zero.
	Timestamp int64
	// Features is the supported feature map, usually metadata.version; may be
	// empty (written as {}).
	Features map[string]FeatureRange
}

// RegisteredBroker is a registration read back from ZooKeeper with its
// broker epoch.
type RegisteredBroker struct {
	BrokerRegistration
	// Epoch is the czxid of the broker's znode (the broker epoch).
	Epoch int64
}

// TopicAssignment is the content of /brokers/topics/<topic> (§1.3.2).
type TopicAssignment struct {
	// Partitions maps partition → replica list (preferred leader first).
	Partitions map[int32][]model.BrokerID
	// Adding and Removing list replicas of partitions under reassignment.
	Adding   map[int32][]model.BrokerID
	Removing map[int32][]model.BrokerID
	// TopicID is zero if the znode has none.
	TopicID model.TopicID
}

// appendString appends s as a JSON string. Only '"', '\\' and control
// characters are escaped (as Jackson does); invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendKey appends `,"key":` (without the comma for the first key).
func appendKey(b []byte, key string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = appendString(b, key)
	return append(b, ':')
}

func appendBrokerList(b []byte, ids []model.BrokerID) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, int64(id))
	}
	return append(b, ']')
}

// appendPartitionMap writes {"0":[..],"1":[..]} with keys in numeric order.
func appendPartitionMap(b []byte, m map[int32][]model.BrokerID) []byte {
	keys := make([]int32, 0, len(m))
	for p := range m {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for _, p := range keys {
		b = appendKey(b, strconv.FormatInt(int64(p), 10))
		b = appendBrokerList(b, m[p])
	}
	return append(b, '}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EndpointString renders an endpoint as registered: "LISTENER://host:port",
// with an IPv6 host in brackets.
func EndpointString(e model.Endpoint) string {
	return e.Listener + "://" + net.JoinHostPort(e.Host, strconv.FormatInt(int64(e.Port), 10))
}

// MarshalBrokerRegistration renders /brokers/ids/<id> version 5:
//
//	{"version":5,"host":"b1","port":9092,"jmx_port":-1,"timestamp":"1700000000000",
//	 "endpoints":["PLAINTEXT://b1:9092"],"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},
//	 "rack":"r1","features":{}}
//
// host/port are those of the first PLAINTEXT endpoint (null/-1 if none);
// rack is present only when set.
func MarshalBrokerRegistration(reg BrokerRegistration) []byte {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '5')
	host, port := "", int32(-1)
	found := false
	for _, e := range reg.Endpoints {
		if e.SecurityProtocol == "PLAINTEXT" {
			host, port, found = e.Host, e.Port, true
			break
		}
	}
	b = appendKey(b, "host")
	if found {
		b = appendString(b, host)
	} else {
		b = append(b, "null"...)
	}
	b = appendKey(b, "port")
	b = appendInt(b, int64(port))
	jmx := reg.JMXPort
	if jmx == 0 {
		jmx = -1
	}
	b = appendKey(b, "jmx_port")
	b = appendInt(b, int64(jmx))
	b = appendKey(b, "timestamp")
	b = appendString(b, strconv.FormatInt(reg.Timestamp, 10))
	b = appendKey(b, "endpoints")
	b = append(b, '[')
	for i, e := range reg.Endpoints {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, EndpointString(e))
	}
	b = append(b, ']')
	b = appendKey(b, "listener_security_protocol_map")
	b = append(b, '{')
	seen := make(map[string]bool, len(reg.Endpoints))
	for _, e := range reg.Endpoints {
		if seen[e.Listener] {
			continue
		}
		seen[e.Listener] = true
		b = appendKey(b, e.Listener)
		b = appendString(b, e.SecurityProtocol)
	}
	b = append(b, '}')
	if reg.Rack != nil {
		b = appendKey(b, "rack")
		b = appendString(b, *reg.Rack)
	}
	b = appendKey(b, "features")
	b = append(b, '{')
	for _, name := range sortedKeys(reg.Features) {
		r := reg.Features[name]
		b = appendKey(b, name)
		b = append(b, '{')
		b = appendKey(b, "min_version")
		b = appendInt(b, int64(r.Min))
		b = appendKey(b, "max_version")
		b = appendInt(b, int64(r.Max))
		b = append(b, '}')
	}
	b = append(b, '}')
	return append(b, '}')
}

// flexInt64 accepts a JSON number or a string holding a decimal number
// (Kafka writes timestamps as strings; tolerate numbers).
type flexInt64 int64

func (f *flexInt64) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		return nil
	}
	if len(s) > 0 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return err
		}
		s = strings.TrimSpace(str)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", data)
	}
	*f = flexInt64(v)
	return nil
}

type brokerJSON struct {
	Version     *int               `json:"version"`
	Host        *string            `json:"host"`
	Port        *int32             `json:"port"`
	JMXPort     *int32             `json:"jmx_port"`
	Timestamp   flexInt64          `json:"timestamp"`
	Endpoints   []string           `json:"endpoints"`
	Rack        *string            `json:"rack"`
	ProtocolMap map[string]string  `json:"listener_security_protocol_map"`
	Features    map[string]feature `json:"features"`
}

type feature struct {
	Min int16 `json:"min_version"`
	Max int16 `json:"max_version"`
}

// ParseEndpoint reads "LISTENER://host:port" (IPv6 hosts bracketed). The
// security protocol is left empty.
func ParseEndpoint(s string) (model.Endpoint, error) {
	name, hostPort, ok := strings.Cut(s, "://")
	if !ok || name == "" {
		return model.Endpoint{}, fmt.Errorf("zkmeta: endpoint %q: want LISTENER://host:port", s)
	}
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		return model.Endpoint{}, fmt.Errorf("zkmeta: endpoint %q: %w", s, err)
	}
	port, err := strconv.ParseInt(portText, 10, 32)
	if err != nil {
		return model.Endpoint{}, fmt.Errorf("zkmeta: endpoint %q: bad port", s)
	}
	return model.Endpoint{Listener: name, Host: host, Port: int32(port)}, nil
}

// ParseBrokerRegistration reads /brokers/ids/<id>, versions 1 to 5. Version 1
// (no endpoints) yields one PLAINTEXT endpoint from host/port; versions 2 and
// 3 (no listener_security_protocol_map) take the listener name as the
// security protocol.
func ParseBrokerRegistration(id model.BrokerID, data []byte) (BrokerRegistration, error) {
	var j brokerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return BrokerRegistration{}, fmt.Errorf("zkmeta: broker %d registration: %w", id, err)
	}
	if j.Version == nil || *j.Version < 1 {
		return BrokerRegistration{}, fmt.Errorf("zkmeta: broker %d registration: missing or bad version", id)
	}
	reg := BrokerRegistration{ID: id, Rack: j.Rack, JMXPort: -1, Timestamp: int64(j.Timestamp)}
	if j.JMXPort != nil {
		reg.JMXPort = *j.JMXPort
	}
	if len(j.Endpoints) > 0 {
		for _, s := range j.Endpoints {
			e, err := ParseEndpoint(s)
			if err != nil {
				return BrokerRegistration{}, fmt.Errorf("broker %d: %w", id, err)
			}
			e.SecurityProtocol = e.Listener
			if p, ok := j.ProtocolMap[e.Listener]; ok {
				e.SecurityProtocol = p
			}
			reg.Endpoints = append(reg.Endpoints, e)
		}
	} else if j.Host != nil && j.Port != nil && *j.Port >= 0 {
		reg.Endpoints = []model.Endpoint{{Listener: "PLAINTEXT", Host: *j.Host, Port: *j.Port, SecurityProtocol: "PLAINTEXT"}}
	}
	if len(j.Features) > 0 {
		reg.Features = make(map[string]FeatureRange, len(j.Features))
		for name, f := range j.Features {
			reg.Features[name] = FeatureRange(f)
		}
	}
	return reg, nil
}

// MarshalTopicAssignment renders /brokers/topics/<topic> version 3:
//
//	{"version":3,"partitions":{"0":[1,2]},"adding_replicas":{},"removing_replicas":{},"topic_id":"..."}
//
// Partition keys are decimal strings in numeric order; topic_id is omitted
// when zero.
func MarshalTopicAssignment(a TopicAssignment) []byte {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '3')
	b = appendKey(b, "partitions")
	b = appendPartitionMap(b, a.Partitions)
	b = appendKey(b, "adding_replicas")
	b = appendPartitionMap(b, a.Adding)
	b = appendKey(b, "removing_replicas")
	b = appendPartitionMap(b, a.Removing)
	if a.TopicID != model.ZeroTopicID {
		b = appendKey(b, "topic_id")
		b = appendString(b, a.TopicID.String())
	}
	return append(b, '}')
}

type topicJSON struct {
	Version    *int                        `json:"version"`
	Partitions map[string][]model.BrokerID `json:"partitions"`
	Adding     map[string][]model.BrokerID `json:"adding_replicas"`
	Removing   map[string][]model.BrokerID `json:"removing_replicas"`
	TopicID    *string                     `json:"topic_id"`
}

func parsePartitionMap(m map[string][]model.BrokerID) (map[int32][]model.BrokerID, error) {
	out := make(map[int32][]model.BrokerID, len(m))
	for k, v := range m {
		p, err := strconv.ParseInt(k, 10, 32)
		if err != nil || p < 0 {
			return nil, fmt.Errorf("bad partition key %q", k)
		}
		if v == nil {
			v = []model.BrokerID{}
		}
		out[int32(p)] = v
	}
	return out, nil
}

// ParseTopicAssignment reads /brokers/topics/<topic>, versions 1 to 3;
// missing adding/removing maps read as empty, a missing topic_id as zero.
// The returned maps are never nil.
func ParseTopicAssignment(data []byte) (TopicAssignment, error) {
	var j topicJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return TopicAssignment{}, fmt.Errorf("zkmeta: topic assignment: %w", err)
	}
	if j.Version == nil || *j.Version < 1 {
		return TopicAssignment{}, errors.New("zkmeta: topic assignment: missing or bad version")
	}
	var a TopicAssignment
	var err error
	if a.Partitions, err = parsePartitionMap(j.Partitions); err != nil {
		return TopicAssignment{}, fmt.Errorf("zkmeta: topic assignment partitions: %w", err)
	}
	if a.Adding, err = parsePartitionMap(j.Adding); err != nil {
		return TopicAssignment{}, fmt.Errorf("zkmeta: topic assignment adding_replicas: %w", err)
	}
	if a.Removing, err = parsePartitionMap(j.Removing); err != nil {
		return TopicAssignment{}, fmt.Errorf("zkmeta: topic assignment removing_replicas: %w", err)
	}
	if j.TopicID != nil && *j.TopicID != "" {
		if a.TopicID, err = model.ParseTopicID(*j.TopicID); err != nil {
			return TopicAssignment{}, fmt.Errorf("zkmeta: topic assignment: %w", err)
		}
	}
	return a, nil
}

// MarshalPartitionState renders .../partitions/<p>/state:
//
//	{"version":1,"leader":2,"leader_epoch":7,"controller_epoch":3,"isr":[2,3]}
//
// with ,"leader_recovery_state":1 appended only when RECOVERING.
// PartitionEpoch is not part of the data (it is the znode's zkVersion).
func MarshalPartitionState(s model.LeaderAndISR) []byte {
	b := make([]byte, 0, 96)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '1')
	b = appendKey(b, "leader")
	b = appendInt(b, int64(s.Leader))
	b = appendKey(b, "leader_epoch")
	b = appendInt(b, int64(s.LeaderEpoch))
	b = appendKey(b, "controller_epoch")
	b = appendInt(b, int64(s.ControllerEpoch))
	b = appendKey(b, "isr")
	b = appendBrokerList(b, s.ISR)
	if s.LeaderRecoveryState == 1 {
		b = appendKey(b, "leader_recovery_state")
		b = append(b, '1')
	}
	return append(b, '}')
}

type partitionStateJSON struct {
	Leader              *int32           `json:"leader"`
	LeaderEpoch         *int32           `json:"leader_epoch"`
	ControllerEpoch     *int32           `json:"controller_epoch"`
	ISR                 []model.BrokerID `json:"isr"`
	LeaderRecoveryState *int8            `json:"leader_recovery_state"`
}

// ParsePartitionState reads a partition state znode. PartitionEpoch is left
// zero; callers set it from the znode's Stat.Version.
func ParsePartitionState(data []byte) (model.LeaderAndISR, error) {
	var j partitionStateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return model.LeaderAndISR{}, fmt.Errorf("zkmeta: partition state: %w", err)
	}
	if j.Leader == nil || j.LeaderEpoch == nil || j.ControllerEpoch == nil || j.ISR == nil {
		return model.LeaderAndISR{}, fmt.Errorf("zkmeta: partition state %s: missing leader, leader_epoch, controller_epoch or isr", data)
	}
	s := model.LeaderAndISR{
		Leader:          model.BrokerID(*j.Leader),
		LeaderEpoch:     model.LeaderEpoch(*j.LeaderEpoch),
		ISR:             j.ISR,
		ControllerEpoch: *j.ControllerEpoch,
	}
	if j.LeaderRecoveryState != nil {
		s.LeaderRecoveryState = *j.LeaderRecoveryState
	}
	return s, nil
}

// MarshalController renders /controller version 2:
// {"version":2,"brokerid":N,"timestamp":"ms","kraftControllerEpoch":-1}.
func MarshalController(id model.BrokerID, timestampMs int64) []byte {
	b := make([]byte, 0, 80)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '2')
	b = appendKey(b, "brokerid")
	b = appendInt(b, int64(id))
	b = appendKey(b, "timestamp")
	b = appendString(b, strconv.FormatInt(timestampMs, 10))
	b = appendKey(b, "kraftControllerEpoch")
	b = append(b, "-1"...)
	return append(b, '}')
}

// ParseController reads /controller (versions 1 and 2); only brokerid matters.
func ParseController(data []byte) (model.BrokerID, error) {
	var j struct {
		BrokerID *int32 `json:"brokerid"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return 0, fmt.Errorf("zkmeta: /controller: %w", err)
	}
	if j.BrokerID == nil {
		return 0, fmt.Errorf("zkmeta: /controller %s: no brokerid", data)
	}
	return model.BrokerID(*j.BrokerID), nil
}

// MarshalControllerEpoch renders /controller_epoch: plain decimal text.
func MarshalControllerEpoch(epoch int32) []byte {
	return strconv.AppendInt(nil, int64(epoch), 10)
}

// ParseControllerEpoch reads /controller_epoch.
func ParseControllerEpoch(data []byte) (int32, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("zkmeta: /controller_epoch %q: not a number", data)
	}
	return int32(v), nil
}

// MarshalClusterID renders /cluster/id: {"version":"1","id":"..."} (the
// version is the string "1").
func MarshalClusterID(id string) []byte {
	b := make([]byte, 0, 48)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = appendString(b, "1")
	b = appendKey(b, "id")
	b = appendString(b, id)
	return append(b, '}')
}

// ParseClusterID reads /cluster/id.
func ParseClusterID(data []byte) (string, error) {
	var j struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return "", fmt.Errorf("zkmeta: /cluster/id: %w", err)
	}
	if j.ID == nil || *j.ID == "" {
		return "", fmt.Errorf("zkmeta: /cluster/id %s: no id", data)
	}
	return *j.ID, nil
}

// MarshalEntityConfig renders /config/<type>/<name>:
// {"version":1,"config":{"k":"v",...}} with keys sorted.
func MarshalEntityConfig(config map[string]string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '1')
	b = appendKey(b, "config")
	b = append(b, '{')
	for _, k := range sortedKeys(config) {
		b = appendKey(b, k)
		b = appendString(b, config[k])
	}
	b = append(b, '}')
	return append(b, '}')
}

// ParseEntityConfig reads /config/<type>/<name>. Values are strings in
// Kafka; a non-string value is kept as its JSON text. Empty data reads as
// an empty config. The map is never nil.
func ParseEntityConfig(data []byte) (map[string]string, error) {
	out := map[string]string{}
	if len(bytes.TrimSpace(data)) == 0 {
		return out, nil
	}
	var j struct {
		Config map[string]json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("zkmeta: entity config: %w", err)
	}
	for k, raw := range j.Config {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out[k] = s
		} else if string(raw) != "null" {
			out[k] = strings.ToValidUTF8(string(raw), "\ufffd")
		}
	}
	return out, nil
}

// MarshalConfigChange renders a /config/changes/config_change_<seq>
// notification: {"version":2,"entity_path":"topics/foo"}.
func MarshalConfigChange(entityType, name string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, '{')
	b = appendKey(b, "version")
	b = append(b, '2')
	b = appendKey(b, "entity_path")
	b = appendString(b, entityType+"/"+name)
	return append(b, '}')
}
