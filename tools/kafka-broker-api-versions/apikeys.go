package main

// apiKey is what a Kafka 3.9 Java client knows about one API: its name
// (ApiKeys.name), the newest version it can send (ApiKeys.latestVersion,
// which is what "usable" is computed from), and whether NodeApiVersions
// lists it as UNSUPPORTED when a broker does not advertise it (the APIs a
// ZooKeeper-mode or KRaft broker serves; controller-only ones are not
// listed).
type apiKey struct {
	name   string
	latest int16
	client bool
}

// The oldest version of every API a 3.9 client knows is 0.
const oldestVersion = 0

// apiKeys is Kafka 3.9's ApiKeys enum, keyed by API key. The names and the
// UNSUPPORTED set were checked against the output of Kafka 3.9.2's
// kafka-broker-api-versions.sh against a ZooKeeper-mode 3.9 cluster; the
// latest versions of the APIs a ZooKeeper broker advertises are that
// broker's maxima (docs in /work/shared/reference/wire-protocol.md §4).
var apiKeys = map[int16]apiKey{
	0:  {"Produce", 11, true},
	1:  {"Fetch", 17, true},
	2:  {"ListOffsets", 9, true},
	3:  {"Metadata", 12, true},
	4:  {"LeaderAndIsr", 7, true},
	5:  {"StopReplica", 4, true},
	6:  {"UpdateMetadata", 8, true},
	7:  {"ControlledShutdown", 3, true},
	8:  {"OffsetCommit", 9, true},
	9:  {"OffsetFetch", 9, true},
	10: {"FindCoordinator", 6, true},
	11: {"JoinGroup", 9, true},
	12: {"Heartbeat", 4, true},
	13: {"LeaveGroup", 5, true},
	14: {"SyncGroup", 5, true},
	15: {"DescribeGroups", 5, true},
	16: {"ListGroups", 5, true},
	17: {"SaslHandshake", 1, true},
	18: {"ApiVersions", 4, true},
	19: {"CreateTopics", 7, true},
	20: {"DeleteTopics", 6, true},
	21: {"DeleteRecords", 2, true},
	22: {"InitProducerId", 5, true},
	23: {"OffsetForLeaderEpoch", 4, true},
	24: {"AddPartitionsToTxn", 5, true},
	25: {"AddOffsetsToTxn", 4, true},
	26: {"EndTxn", 4, true},
	27: {"WriteTxnMarkers", 1, true},
	28: {"TxnOffsetCommit", 4, true},
	29: {"DescribeAcls", 3, true},
	30: {"CreateAcls", 3, true},
	31: {"DeleteAcls", 3, true},
	32: {"DescribeConfigs", 4, true},
	33: {"AlterConfigs", 2, true},
	34: {"AlterReplicaLogDirs", 2, true},
	35: {"DescribeLogDirs", 4, true},
	36: {"SaslAuthenticate", 2, true},
	37: {"CreatePartitions", 3, true},
	38: {"CreateDelegationToken", 3, true},
	39: {"RenewDelegationToken", 2, true},
	40: {"ExpireDelegationToken", 2, true},
	41: {"DescribeDelegationToken", 3, true},
	42: {"DeleteGroups", 2, true},
	43: {"ElectLeaders", 2, true},
	44: {"IncrementalAlterConfigs", 1, true},
	45: {"AlterPartitionReassignments", 0, true},
	46: {"ListPartitionReassignments", 0, true},
	47: {"OffsetDelete", 0, true},
	48: {"DescribeClientQuotas", 1, true},
	49: {"AlterClientQuotas", 1, true},
	50: {"DescribeUserScramCredentials", 0, true},
	51: {"AlterUserScramCredentials", 0, true},
	52: {"Vote", 1, false},
	53: {"BeginQuorumEpoch", 1, false},
	54: {"EndQuorumEpoch", 1, false},
	55: {"DescribeQuorum", 2, true},
	56: {"AlterPartition", 3, true},
	57: {"UpdateFeatures", 1, true},
	58: {"Envelope", 0, true},
	59: {"FetchSnapshot", 1, false},
	60: {"DescribeCluster", 1, true},
	61: {"DescribeProducers", 0, true},
	62: {"BrokerRegistration", 4, false},
	63: {"BrokerHeartbeat", 1, false},
	64: {"UnregisterBroker", 0, true},
	65: {"DescribeTransactions", 0, true},
	66: {"ListTransactions", 1, true},
	67: {"AllocateProducerIds", 0, true},
	68: {"ConsumerGroupHeartbeat", 0, true},
	69: {"ConsumerGroupDescribe", 0, true},
	70: {"ControllerRegistration", 0, false},
	71: {"GetTelemetrySubscriptions", 0, true},
	72: {"PushTelemetry", 0, true},
	73: {"AssignReplicasToDirs", 0, false},
	74: {"ListClientMetricsResources", 0, true},
	75: {"DescribeTopicPartitions", 0, true},
	76: {"ShareGroupHeartbeat", 0, true},
	77: {"ShareGroupDescribe", 0, true},
	78: {"ShareFetch", 0, true},
	79: {"ShareAcknowledge", 0, true},
	80: {"AddRaftVoter", 0, true},
	81: {"RemoveRaftVoter", 0, true},
	82: {"UpdateRaftVoter", 0, false},
	83: {"InitializeShareGroupState", 0, true},
	84: {"ReadShareGroupState", 0, true},
	85: {"WriteShareGroupState", 0, true},
	86: {"DeleteShareGroupState", 0, true},
	87: {"ReadShareGroupStateSummary", 0, true},
}
