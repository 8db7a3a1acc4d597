package zkmeta

import (
	"reflect"
	"testing"

	"github.com/kbroker/kbroker/model"
)

func strp(s string) *string { return &s }

func TestMarshalBrokerRegistration(t *testing.T) {
	tests := []struct {
		name string
		reg  BrokerRegistration
		want string
	}{
		{
			name: "two listeners, rack, metadata.version",
			reg: BrokerRegistration{
				ID: 1,
				Endpoints: []model.Endpoint{
					{Listener: "PLAINTEXT", Host: "b1", Port: 9092, SecurityProtocol: "PLAINTEXT"},
					{Listener: "REPLICATION", Host: "b1", Port: 9093, SecurityProtocol: "SSL"},
				},
				Rack:      strp("r1"),
				JMXPort:   -1,
				Timestamp: 1700000000000,
				Features:  map[string]FeatureRange{"metadata.version": {Min: 1, Max: 21}},
			},
			want: `{"version":5,"host":"b1","port":9092,"jmx_port":-1,"timestamp":"1700000000000",` +
				`"endpoints":["PLAINTEXT://b1:9092","REPLICATION://b1:9093"],` +
				`"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","REPLICATION":"SSL"},` +
				`"rack":"r1","features":{"metadata.version":{"min_version":1,"max_version":21}}}`,
		},
		{
			name: "host/port from the first PLAINTEXT endpoint, IPv6 bracketed, no rack, jmx 0 is -1",
			reg: BrokerRegistration{
				ID: 2,
				Endpoints: []model.Endpoint{
					{Listener: "SECURE", Host: "::1", Port: 9094, SecurityProtocol: "SSL"},
					{Listener: "INTERNAL", Host: "fe80::1", Port: 9095, SecurityProtocol: "PLAINTEXT"},
				},
				Timestamp: 5,
			},
			want: `{"version":5,"host":"fe80::1","port":9095,"jmx_port":-1,"timestamp":"5",` +
				`"endpoints":["SECURE://[::1]:9094","INTERNAL://[fe80::1]:9095"],` +
				`"listener_security_protocol_map":{"SECURE":"SSL","INTERNAL":"PLAINTEXT"},"features":{}}`,
		},
		{
			name: "no PLAINTEXT endpoint: host null, port -1",
			reg: BrokerRegistration{
				ID:        3,
				Endpoints: []model.Endpoint{{Listener: "SSL", Host: "h", Port: 1, SecurityProtocol: "SSL"}},
				JMXPort:   9999,
				Timestamp: 7,
			},
			want: `{"version":5,"host":null,"port":-1,"jmx_port":9999,"timestamp":"7",` +
				`"endpoints":["SSL://h:1"],"listener_security_protocol_map":{"SSL":"SSL"},"features":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(MarshalBrokerRegistration(tt.reg))
			if got != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			back, err := ParseBrokerRegistration(tt.reg.ID, []byte(got))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.reg
			if want.JMXPort == 0 {
				want.JMXPort = -1
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

func TestParseBrokerRegistrationVersions(t *testing.T) {
	plain := func(host string, port int32) model.Endpoint {
		return model.Endpoint{Listener: "PLAINTEXT", Host: host, Port: port, SecurityProtocol: "PLAINTEXT"}
	}
	tests := []struct {
		name string
		data string
		want BrokerRegistration
	}{
		{
			name: "v1",
			data: `{"jmx_port":-1,"timestamp":"1400000000000","host":"old","version":1,"port":9092}`,
			want: BrokerRegistration{ID: 7, JMXPort: -1, Timestamp: 1400000000000, Endpoints: []model.Endpoint{plain("old", 9092)}},
		},
		{
			name: "v2 listener name is the protocol",
			data: `{"jmx_port":9999,"timestamp":"1","endpoints":["PLAINTEXT://h:9092","SSL://h:9093"],"host":"h","version":2,"port":9092}`,
			want: BrokerRegistration{ID: 7, JMXPort: 9999, Timestamp: 1, Endpoints: []model.Endpoint{
				plain("h", 9092), {Listener: "SSL", Host: "h", Port: 9093, SecurityProtocol: "SSL"}}},
		},
		{
			name: "v3 with rack",
			data: `{"rack":"eu-1a","jmx_port":-1,"timestamp":"2","endpoints":["PLAINTEXT://h:9092"],"host":"h","version":3,"port":9092}`,
			want: BrokerRegistration{ID: 7, JMXPort: -1, Timestamp: 2, Rack: strp("eu-1a"), Endpoints: []model.Endpoint{plain("h", 9092)}},
		},
		{
			name: "v4 Kafka key order, extra keys ignored",
			data: `{"listener_security_protocol_map":{"CLIENT":"SASL_SSL","REPL":"PLAINTEXT"},"endpoints":["CLIENT://c.example:9094","REPL://10.0.0.1:9095"],` +
				`"jmx_port":-1,"host":"10.0.0.1","timestamp":"3","port":9095,"version":4,"future_key":{"x":[1]}}`,
			want: BrokerRegistration{ID: 7, JMXPort: -1, Timestamp: 3, Endpoints: []model.Endpoint{
				{Listener: "CLIENT", Host: "c.example", Port: 9094, SecurityProtocol: "SASL_SSL"},
				{Listener: "REPL", Host: "10.0.0.1", Port: 9095, SecurityProtocol: "PLAINTEXT"}}},
		},
		{
			name: "v5 Kafka 3.x with features, numeric timestamp tolerated",
			data: `{"features":{"metadata.version":{"max_version":21,"min_version":1}},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},` +
				`"endpoints":["PLAINTEXT://[::1]:9092"],"jmx_port":-1,"port":9092,"host":"::1","timestamp":4,"version":5}`,
			want: BrokerRegistration{ID: 7, JMXPort: -1, Timestamp: 4, Endpoints: []model.Endpoint{plain("::1", 9092)},
				Features: map[string]FeatureRange{"metadata.version": {Min: 1, Max: 21}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBrokerRegistration(7, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `{}`, `{"version":0}`, `[1]`, `{"version":5,"endpoints":["nope"]}`, `{"version":5,"endpoints":["A://h:x"]}`} {
		if _, err := ParseBrokerRegistration(1, []byte(bad)); err == nil {
			t.Errorf("ParseBrokerRegistration(%q) succeeded", bad)
		}
	}
}

func TestTopicAssignmentCodec(t *testing.T) {
	id, err := model.ParseTopicID("q2xG0yYaTgqX5x3Mv2UeKg")
	if err != nil {
		t.Fatal(err)
	}
	a := TopicAssignment{
		Partitions: map[int32][]model.BrokerID{0: {1, 2, 3}, 1: {2, 3, 1}, 2: {3, 1, 2}, 10: {1, 2, 3}},
		Adding:     map[int32][]model.BrokerID{1: {4}},
		Removing:   map[int32][]model.BrokerID{},
		TopicID:    id,
	}
	want := `{"version":3,"partitions":{"0":[1,2,3],"1":[2,3,1],"2":[3,1,2],"10":[1,2,3]},` +
		`"adding_replicas":{"1":[4]},"removing_replicas":{},"topic_id":"q2xG0yYaTgqX5x3Mv2UeKg"}`
	if got := string(MarshalTopicAssignment(a)); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	back, err := ParseTopicAssignment([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a) {
		t.Fatalf("round trip: %+v", back)
	}

	// No topic id: the key is omitted; nil maps are written as {}.
	want = `{"version":3,"partitions":{"0":[1]},"adding_replicas":{},"removing_replicas":{}}`
	if got := string(MarshalTopicAssignment(TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}})); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}

	// Older versions.
	for _, old := range []string{
		`{"version":1,"partitions":{"1":[2],"0":[1]}}`,
		`{"partitions":{"0":[1],"1":[2]},"version":2,"adding_replicas":{},"removing_replicas":{}}`,
	} {
		got, err := ParseTopicAssignment([]byte(old))
		if err != nil {
			t.Fatal(err)
		}
		wantA := TopicAssignment{
			Partitions: map[int32][]model.BrokerID{0: {1}, 1: {2}},
			Adding:     map[int32][]model.BrokerID{},
			Removing:   map[int32][]model.BrokerID{},
		}
		if !reflect.DeepEqual(got, wantA) {
			t.Fatalf("%s: got %+v", old, got)
		}
	}
	for _, bad := range []string{`{}`, `{"version":3,"partitions":{"x":[1]}}`, `{"version":3,"topic_id":"short"}`, `nope`} {
		if _, err := ParseTopicAssignment([]byte(bad)); err == nil {
			t.Errorf("ParseTopicAssignment(%q) succeeded", bad)
		}
	}
}

func TestPartitionStateCodec(t *testing.T) {
	s := model.LeaderAndISR{Leader: 2, LeaderEpoch: 7, ControllerEpoch: 3, ISR: []model.BrokerID{2, 3}}
	want := `{"version":1,"leader":2,"leader_epoch":7,"controller_epoch":3,"isr":[2,3]}`
	if got := string(MarshalPartitionState(s)); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	s.LeaderRecoveryState = 1
	s.Leader = -1
	s.ISR = []model.BrokerID{}
	want = `{"version":1,"leader":-1,"leader_epoch":7,"controller_epoch":3,"isr":[],"leader_recovery_state":1}`
	if got := string(MarshalPartitionState(s)); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	back, err := ParsePartitionState([]byte(want))
	if err != nil || !reflect.DeepEqual(back, s) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// PartitionEpoch is not data.
	s.PartitionEpoch = 9
	if got := string(MarshalPartitionState(s)); got != want {
		t.Fatalf("PartitionEpoch leaked into the data: %s", got)
	}
	// Kafka's key order, unknown keys.
	back, err = ParsePartitionState([]byte(`{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2],"x":true}`))
	if err != nil || !reflect.DeepEqual(back, model.LeaderAndISR{Leader: 1, ControllerEpoch: 1, ISR: []model.BrokerID{1, 2}}) {
		t.Fatalf("got %+v, %v", back, err)
	}
	if _, err := ParsePartitionState([]byte(`{"version":1,"leader":1}`)); err == nil {
		t.Fatal("incomplete state parsed")
	}
}

func TestSmallCodecs(t *testing.T) {
	if got := string(MarshalController(2, 1700000000000)); got != `{"version":2,"brokerid":2,"timestamp":"1700000000000","kraftControllerEpoch":-1}` {
		t.Fatalf("controller: %s", got)
	}
	for _, data := range []string{
		`{"version":2,"brokerid":2,"timestamp":"1","kraftControllerEpoch":-1}`,
		`{"version":1,"brokerid":2,"timestamp":"1700000000000"}`,
	} {
		if id, err := ParseController([]byte(data)); err != nil || id != 2 {
			t.Fatalf("ParseController(%s) = %d, %v", data, id, err)
		}
	}
	if _, err := ParseController([]byte(`{"version":1}`)); err == nil {
		t.Fatal("controller without brokerid parsed")
	}
	if got := string(MarshalControllerEpoch(12)); got != "12" {
		t.Fatalf("epoch: %q", got)
	}
	if e, err := ParseControllerEpoch([]byte("5")); err != nil || e != 5 {
		t.Fatalf("ParseControllerEpoch = %d, %v", e, err)
	}
	if _, err := ParseControllerEpoch([]byte(`{"epoch":5}`)); err == nil {
		t.Fatal("JSON epoch parsed")
	}
	if got := string(MarshalClusterID("8Y2ov0hCS6ek7yF1d3xg1A")); got != `{"version":"1","id":"8Y2ov0hCS6ek7yF1d3xg1A"}` {
		t.Fatalf("cluster id: %s", got)
	}
	if id, err := ParseClusterID([]byte(`{"id":"abc","version":"1"}`)); err != nil || id != "abc" {
		t.Fatalf("ParseClusterID = %q, %v", id, err)
	}
	cfg := map[string]string{"retention.ms": "86400000", "cleanup.policy": "compact", "x": "a\"b\\c\n<&>"}
	want := `{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"86400000","x":"a\"b\\c\n<&>"}}`
	if got := string(MarshalEntityConfig(cfg)); got != want {
		t.Fatalf("config:\n got %s\nwant %s", got, want)
	}
	back, err := ParseEntityConfig([]byte(want))
	if err != nil || !reflect.DeepEqual(back, cfg) {
		t.Fatalf("config round trip: %v, %v", back, err)
	}
	if got := string(MarshalEntityConfig(nil)); got != `{"version":1,"config":{}}` {
		t.Fatalf("empty config: %s", got)
	}
	if got := string(MarshalConfigChange("topics", "foo")); got != `{"version":2,"entity_path":"topics/foo"}` {
		t.Fatalf("config change: %s", got)
	}
	if id := NewClusterID(); len(id) != 22 {
		t.Fatalf("cluster id %q is not 22 characters", id)
	}
}

func TestParseConnect(t *testing.T) {
	tests := []struct {
		in      string
		servers []string
		chroot  string
		bad     bool
	}{
		{in: "zk1:2181", servers: []string{"zk1:2181"}},
		{in: "zk1:2181,zk2:2182/kafka", servers: []string{"zk1:2181", "zk2:2182"}, chroot: "/kafka"},
		{in: " zk1:2181 , zk2 /a/b/ ", servers: []string{"zk1:2181", "zk2"}, chroot: "/a/b"},
		{in: "zk1:2181/", servers: []string{"zk1:2181"}},
		{in: "/kafka", bad: true},
		{in: "h:1/a//b", bad: true},
	}
	for _, tt := range tests {
		servers, chroot, err := parseConnect(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseConnect(%q) succeeded", tt.in)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(servers, tt.servers) || chroot != tt.chroot {
			t.Errorf("parseConnect(%q) = %q, %q, %v", tt.in, servers, chroot, err)
		}
	}
}

func FuzzParsers(f *testing.F) {
	f.Add([]byte(`{"version":5,"host":"b1","port":9092,"endpoints":["PLAINTEXT://b1:9092"]}`))
	f.Add([]byte(`{"version":3,"partitions":{"0":[1]}}`))
	f.Add([]byte(`{"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseBrokerRegistration(1, data)
		if a, err := ParseTopicAssignment(data); err == nil {
			if _, err := ParseTopicAssignment(MarshalTopicAssignment(a)); err != nil {
				t.Fatalf("re-parse of marshalled assignment: %v", err)
			}
		}
		if s, err := ParsePartitionState(data); err == nil {
			if back, err := ParsePartitionState(MarshalPartitionState(s)); err != nil || back.Leader != s.Leader {
				t.Fatalf("re-parse of marshalled state: %v", err)
			}
		}
		_, _ = ParseController(data)
		_, _ = ParseControllerEpoch(data)
		_, _ = ParseClusterID(data)
		if cfg, err := ParseEntityConfig(data); err == nil {
			if back, err := ParseEntityConfig(MarshalEntityConfig(cfg)); err != nil || !reflect.DeepEqual(back, cfg) {
				t.Fatalf("config round trip: %v %v", back, err)
			}
		}
	})
}
