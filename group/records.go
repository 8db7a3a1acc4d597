package group

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The schema versions written to __consumer_offsets, as a Kafka 3.9 broker
// writes them (inter.broker.protocol.version 3.9): offset commit key v1,
// group metadata key v2, offset commit value v3 (v1 when the commit asked
// for an explicit retention, OffsetCommit v2-v4), group metadata value v3.
const (
	offsetKeyVersion          int16 = 1
	groupKeyVersion           int16 = 2
	offsetValueVersion        int16 = 3
	offsetValueVersionExpire  int16 = 1
	groupValueVersion         int16 = 3
	maxOffsetValueVersion     int16 = 4
	maxGroupMetadataValueVers int16 = 4
)

// NoExpireTimestamp marks a committed offset without an explicit expiry.
const NoExpireTimestamp int64 = -1

// CommittedOffset is the value of a committed offset.
type CommittedOffset struct {
	Offset          int64
	LeaderEpoch     int32 // -1 when unknown
	Metadata        string
	CommitTimestamp int64 // unix ms
	ExpireTimestamp int64 // unix ms, or NoExpireTimestamp
}

// OffsetKeyBytes is the record key of a committed offset.
func OffsetKeyBytes(group, topic string, partition int32) []byte {
	k := kmsg.OffsetCommitKey{Version: offsetKeyVersion, Group: group, Topic: topic, Partition: partition}
	return k.AppendTo(nil)
}

// GroupKeyBytes is the record key of a group's metadata.
func GroupKeyBytes(group string) []byte {
	k := kmsg.GroupMetadataKey{Version: groupKeyVersion, Group: group}
	return k.AppendTo(nil)
}

// OffsetValueBytes is the record value of a committed offset: version 3,
// or version 1 (no leader epoch, with the expire timestamp) when the
// commit carries an explicit expiry.
func OffsetValueBytes(o CommittedOffset) []byte {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	if o.ExpireTimestamp != NoExpireTimestamp {
		v.Version = offsetValueVersionExpire
	}
	v.Offset, v.LeaderEpoch, v.Metadata = o.Offset, o.LeaderEpoch, o.Metadata
	v.CommitTimestamp, v.ExpireTimestamp = o.CommitTimestamp, o.ExpireTimestamp
	return v.AppendTo(nil)
}

// asStored is o as its record reads back: a version 1 value (written for
// an explicit expiry) carries no leader epoch.
func (o CommittedOffset) asStored() CommittedOffset {
	if o.ExpireTimestamp != NoExpireTimestamp {
		o.LeaderEpoch = -1
	}
	return o
}

// GroupValueBytes is the record value of a group's metadata, version 3
// (whatever Version g carries).
func GroupValueBytes(g kmsg.GroupMetadataValue) []byte {
	g.Version = groupValueVersion
	return g.AppendTo(nil)
}

// RecordKind tells what a __consumer_offsets record is about.
type RecordKind int8

const (
	// OffsetRecord is a committed offset (key version 0 or 1).
	OffsetRecord RecordKind = iota + 1
	// GroupRecord is a group's metadata (key version 2).
	GroupRecord
)

// Record is a decoded __consumer_offsets record. A nil Offset (for an
// OffsetRecord) or Group (for a GroupRecord) is a tombstone.
type Record struct {
	Kind      RecordKind
	GroupID   string
	Topic     string // OffsetRecord only
	Partition int32  // OffsetRecord only
	Offset    *CommittedOffset
	Group     *kmsg.GroupMetadataValue
}

// ErrUnknownKeyVersion is returned for a key whose schema version is not
// an offset commit or group metadata key (e.g. written by a newer broker).
var ErrUnknownKeyVersion = errors.New("unknown __consumer_offsets key version")

// ParseRecord decodes one __consumer_offsets record; value nil is a
// tombstone.
func ParseRecord(key, value []byte) (Record, error) {
	if len(key) < 2 {
		return Record{}, fmt.Errorf("key of %d bytes", len(key))
	}
	switch version := int16(key[0])<<8 | int16(key[1]); version {
	case 0, 1:
		var k kmsg.OffsetCommitKey
		if err := k.ReadFrom(key); err != nil {
			return Record{}, fmt.Errorf("offset commit key: %w", err)
		}
		r := Record{Kind: OffsetRecord, GroupID: k.Group, Topic: k.Topic, Partition: k.Partition}
		if value == nil {
			return r, nil
		}
		o, err := parseOffsetValue(value)
		if err != nil {
			return Record{}, fmt.Errorf("offset commit value of %s/%s-%d: %w", k.Group, k.Topic, k.Partition, err)
		}
		r.Offset = &o
		return r, nil
	case 2:
		var k kmsg.GroupMetadataKey
		if err := k.ReadFrom(key); err != nil {
			return Record{}, fmt.Errorf("group metadata key: %w", err)
		}
		r := Record{Kind: GroupRecord, GroupID: k.Group}
		if value == nil {
			return r, nil
		}
		if err := checkValueVersion(value, maxGroupMetadataValueVers); err != nil {
			return Record{}, fmt.Errorf("group metadata value of %s: %w", k.Group, err)
		}
		g := kmsg.NewGroupMetadataValue()
		if err := g.ReadFrom(value); err != nil {
			return Record{}, fmt.Errorf("group metadata value of %s: %w", k.Group, err)
		}
		r.Group = &g
		return r, nil
	default:
		return Record{}, fmt.Errorf("%w %d", ErrUnknownKeyVersion, version)
	}
}

func parseOffsetValue(value []byte) (CommittedOffset, error) {
	if err := checkValueVersion(value, maxOffsetValueVersion); err != nil {
		return CommittedOffset{}, err
	}
	v := kmsg.NewOffsetCommitValue()
	if err := v.ReadFrom(value); err != nil {
		return CommittedOffset{}, err
	}
	o := CommittedOffset{Offset: v.Offset, LeaderEpoch: -1, Metadata: v.Metadata,
		CommitTimestamp: v.CommitTimestamp, ExpireTimestamp: NoExpireTimestamp}
	if v.Version >= 3 {
		o.LeaderEpoch = v.LeaderEpoch
	}
	if v.Version == 1 {
		o.ExpireTimestamp = v.ExpireTimestamp
	}
	return o, nil
}

func checkValueVersion(value []byte, max int16) error {
	if len(value) < 2 {
		return fmt.Errorf("value of %d bytes", len(value))
	}
	if v := int16(value[0])<<8 | int16(value[1]); v < 0 || v > max {
		return fmt.Errorf("unknown value version %d", v)
	}
	return nil
}
