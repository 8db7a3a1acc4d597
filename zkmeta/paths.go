package zkmeta

import (
	"strconv"

	"github.com/kbroker/kbroker/model"
)

// Znode paths, relative to the chroot (kafka-zk-spec.md §1.2).
const (
	ControllerPath       = "/controller"
	ControllerEpochPath  = "/controller_epoch"
	BrokersPath          = "/brokers"
	BrokerIDsPath        = "/brokers/ids"
	TopicsPath           = "/brokers/topics"
	BrokerSeqIDPath      = "/brokers/seqid"
	DeleteTopicsPath     = "/admin/delete_topics"
	ClusterIDPath        = "/cluster/id"
	ConfigPath           = "/config"
	ConfigChangesPath    = "/config/changes"
	ConfigChangePrefix   = "/config/changes/config_change_"
	IsrChangePath        = "/isr_change_notification"
	LogDirEventPath      = "/log_dir_event_notification"
	ProducerIDBlockPath  = "/latest_producer_id_block"
	ConsumersPath        = "/consumers"
	TopicConfigType      = "topics"
	BrokerConfigType     = "brokers"
	DefaultConfigEntity  = "<default>"
	partitionsChild      = "/partitions"
	partitionStateChild  = "/state"
	configEntityTypeRoot = "/config/"
)

// TopLevelPaths are the persistent paths every broker creates at start-up
// (Kafka's ZkData.PersistentZkPaths), with null data.
var TopLevelPaths = []string{
	ConsumersPath,
	BrokerIDsPath,
	TopicsPath,
	ConfigChangesPath,
	DeleteTopicsPath,
	BrokerSeqIDPath,
	IsrChangePath,
	ProducerIDBlockPath,
	LogDirEventPath,
	"/config/topics",
	"/config/clients",
	"/config/users",
	"/config/brokers",
	"/config/ips",
}

// BrokerIDPath is /brokers/ids/<id>.
func BrokerIDPath(id model.BrokerID) string {
	return BrokerIDsPath + "/" + strconv.FormatInt(int64(id), 10)
}

// TopicPath is /brokers/topics/<topic>.
func TopicPath(topic string) string { return TopicsPath + "/" + topic }

// TopicPartitionsPath is /brokers/topics/<topic>/partitions.
func TopicPartitionsPath(topic string) string { return TopicPath(topic) + partitionsChild }

// PartitionPath is /brokers/topics/<topic>/partitions/<p>.
func PartitionPath(topic string, p int32) string {
	return TopicPartitionsPath(topic) + "/" + strconv.FormatInt(int64(p), 10)
}

// PartitionStatePath is /brokers/topics/<topic>/partitions/<p>/state.
func PartitionStatePath(topic string, p int32) string {
	return PartitionPath(topic, p) + partitionStateChild
}

// DeleteTopicPath is /admin/delete_topics/<topic>.
func DeleteTopicPath(topic string) string { return DeleteTopicsPath + "/" + topic }

// EntityConfigPath is /config/<entityType>/<name>, e.g. /config/topics/foo
// or /config/brokers/<default>.
func EntityConfigPath(entityType, name string) string {
	return configEntityTypeRoot + entityType + "/" + name
}

// TopicConfigPath is /config/topics/<topic>.
func TopicConfigPath(topic string) string { return EntityConfigPath(TopicConfigType, topic) }
