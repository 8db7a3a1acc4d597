package record

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error is a fault in batch bytes together with the Kafka error code a broker
// answers it with. errors.Is(err, kerr.CorruptMessage) and friends work on it.
type Error struct {
	// Code is the Kafka error returned to the client for the partition.
	Code *kerr.Error
	// Msg says what is wrong, for logs and the response's error message.
	Msg string
	// RecordErrors lists per-record faults (Produce v8+ RecordErrors).
	RecordErrors []RecordError
}

// RecordError is one rejected record inside a batch.
type RecordError struct {
	BatchIndex int32
	Message    string
}

func (e *Error) Error() string { return e.Code.Message + ": " + e.Msg }

// Unwrap exposes the Kafka error code.
func (e *Error) Unwrap() error { return e.Code }

func newError(code *kerr.Error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

func corrupt(format string, args ...any) *Error {
	return newError(kerr.CorruptMessage, format, args...)
}

// Corruptf makes a CORRUPT_MESSAGE error, for faults found in stored batches.
func Corruptf(format string, args ...any) *Error { return corrupt(format, args...) }

func invalid(format string, args ...any) *Error {
	return newError(kerr.InvalidRecord, format, args...)
}

// ErrLegacyMagic reports a message set in the legacy formats (magic 0 or 1).
// kbroker stores and serves only magic 2; it answers INVALID_RECORD, which is
// what Kafka answers a Produce v3+ carrying old magic and what Kafka 4 answers
// every version.
var ErrLegacyMagic = &Error{
	Code: kerr.InvalidRecord,
	Msg:  "legacy message format (magic 0 or 1) is not supported; only record batch v2 is",
}

// ErrUnknownCodec is the fault of a batch whose codec id is 5, 6 or 7. Kafka
// fails such a produce with an unmapped IllegalArgumentException ("Unknown
// compression type id"), which clients receive as UNKNOWN_SERVER_ERROR.
func ErrUnknownCodec(c Compression) error {
	return newError(kerr.UnknownServerError, "Unknown compression type id: %d", int8(c))
}

// CodeOf returns the Kafka error carried by err, or nil when err carries none.
func CodeOf(err error) *kerr.Error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return nil
}
