package model

import (
	"encoding/base64"
	"fmt"
)

// TopicID is a topic's 128-bit id (Kafka's Uuid). Its text form is the
// URL-safe base64 of the 16 bytes without padding: 22 characters.
type TopicID [16]byte

// ZeroTopicID is the absent id (Uuid.ZERO_UUID, "AAAAAAAAAAAAAAAAAAAAAA").
var ZeroTopicID TopicID

func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ParseTopicID reads the 22-character text form.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("invalid topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}
