package api

import (
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type versionRange struct{ min, max int16 }

// versions is the ApiVersions table: the keys implemented here, with the
// ranges a Kafka 3.9 ZooKeeper-mode broker advertises (minimum versions
// included: clients decide features from them). Keys not implemented are
// not advertised.
var versions = map[int16]versionRange{
	0:  {0, 11}, // Produce
	1:  {0, 17}, // Fetch
	2:  {0, 9},  // ListOffsets
	3:  {0, 12}, // Metadata
	4:  {0, 7},  // LeaderAndIsr
	5:  {0, 4},  // StopReplica
	6:  {0, 8},  // UpdateMetadata
	7:  {0, 3},  // ControlledShutdown
	8:  {0, 9},  // OffsetCommit
	9:  {0, 9},  // OffsetFetch
	10: {0, 6},  // FindCoordinator
	11: {0, 9},  // JoinGroup
	12: {0, 4},  // Heartbeat
	13: {0, 5},  // LeaveGroup
	14: {0, 5},  // SyncGroup
	15: {0, 5},  // DescribeGroups
	16: {0, 5},  // ListGroups
	18: {0, 4},  // ApiVersions
	19: {0, 7},  // CreateTopics
	20: {0, 6},  // DeleteTopics
	22: {0, 5},  // InitProducerId
	23: {0, 4},  // OffsetForLeaderEpoch
	24: {0, 5},  // AddPartitionsToTxn
	25: {0, 4},  // AddOffsetsToTxn
	26: {0, 4},  // EndTxn
	27: {0, 1},  // WriteTxnMarkers
	28: {0, 4},  // TxnOffsetCommit
	32: {0, 4},  // DescribeConfigs
	37: {0, 3},  // CreatePartitions
	42: {0, 2},  // DeleteGroups
	43: {0, 2},  // ElectLeaders
	47: {0, 0},  // OffsetDelete
	56: {0, 3},  // AlterPartition
	60: {0, 1},  // DescribeCluster
	61: {0, 0},  // DescribeProducers
	65: {0, 0},  // DescribeTransactions
	66: {0, 1},  // ListTransactions
}

// clientSoftware is the pattern ApiVersions v3+ requires of the client's
// software name and version.
var clientSoftware = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

func (h *Handler) apiVersions(req *kmsg.ApiVersionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!clientSoftware.MatchString(req.ClientSoftwareName) || !clientSoftware.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	for k := int16(0); k <= kmsg.MaxKey; k++ {
		r, ok := versions[k]
		if !ok {
			continue
		}
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, r.min, r.max
		resp.ApiKeys = append(resp.ApiKeys, ak)
	}
	return resp
}
