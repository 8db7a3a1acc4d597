package record

import (
	"encoding/binary"
	"fmt"
)

// ControlType is the type in a control record's key.
type ControlType int16

// Control record types a ZooKeeper-mode broker writes. Types 2-6 are KRaft's.
const (
	ControlAbort  ControlType = 0
	ControlCommit ControlType = 1
)

func (t ControlType) String() string {
	switch t {
	case ControlAbort:
		return "ABORT"
	case ControlCommit:
		return "COMMIT"
	}
	return fmt.Sprintf("UNKNOWN(%d)", int16(t))
}

// ParseControlKey reads a control record key: int16 version, int16 type.
func ParseControlKey(key []byte) (version int16, t ControlType, err error) {
	if len(key) < 2 {
		return 0, 0, invalid("control record key has %d bytes, want at least 4", len(key))
	}
	if v := int16(binary.BigEndian.Uint16(key)); v < 0 {
		return 0, 0, invalid("Invalid version found for control record: %d. May indicate data corruption", v)
	}
	if len(key) < 4 {
		return 0, 0, invalid("control record key has %d bytes, want at least 4", len(key))
	}
	return int16(binary.BigEndian.Uint16(key)), ControlType(binary.BigEndian.Uint16(key[2:])), nil
}

// EndTxnMarker is the value of an ABORT or COMMIT control record.
type EndTxnMarker struct {
	Version          int16
	CoordinatorEpoch int32
}

// ParseEndTxnMarker reads a marker value: int16 version, int32 coordinator epoch.
func ParseEndTxnMarker(value []byte) (EndTxnMarker, error) {
	if len(value) >= 2 {
		if v := int16(binary.BigEndian.Uint16(value)); v < 0 {
			return EndTxnMarker{}, invalid("Invalid version found for end transaction marker: %d. May indicate data corruption", v)
		}
	}
	if len(value) < 6 {
		return EndTxnMarker{}, invalid("end transaction marker value has %d bytes, want at least 6", len(value))
	}
	return EndTxnMarker{
		Version:          int16(binary.BigEndian.Uint16(value)),
		CoordinatorEpoch: int32(binary.BigEndian.Uint32(value[2:])),
	}, nil
}

// BuildEndTxnMarker builds the control batch that ends a transaction: one
// record, attributes transactional|control, no compression, CreateTime, base
// sequence -1, key = version 0 + type, value = version 0 + coordinator epoch.
func BuildEndTxnMarker(producerID int64, producerEpoch int16, t ControlType, coordinatorEpoch int32, timestamp int64) (Batch, error) {
	key := binary.BigEndian.AppendUint16(nil, 0)
	key = binary.BigEndian.AppendUint16(key, uint16(t))
	value := binary.BigEndian.AppendUint16(nil, 0)
	value = binary.BigEndian.AppendUint32(value, uint32(coordinatorEpoch))
	spec := NewSpec()
	spec.Transactional = true
	spec.Control = true
	spec.ProducerID = producerID
	spec.ProducerEpoch = producerEpoch
	return Build(spec, []NewRecord{{Timestamp: timestamp, Key: key, Value: value}})
}
