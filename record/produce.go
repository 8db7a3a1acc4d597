package record

import "github.com/twmb/franz-go/pkg/kerr"

// ValidateProduceRecords applies the checks Kafka makes on the records of
// one partition of a Produce request before they reach the log
// (ProduceRequest.validateRecords), for Produce v3 and later: at least one
// batch, magic 2, no zstd before v7, exactly one batch. It returns the batch;
// bytes after it that do not form a whole batch are ignored, as Kafka trims
// them.
func ValidateProduceRecords(version int16, records []byte) (Batch, error) {
	b, rest, err := Next(records, 0)
	if err == ErrLegacyMagic {
		return nil, invalid("Produce requests with version %d are only allowed to contain record batches with magic version 2", version)
	}
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, invalid("Produce requests with version %d must have at least one record batch per partition", version)
	}
	if version < 7 && b.Compression() == CompressionZstd {
		return nil, newError(kerr.UnsupportedCompressionType, "Produce requests with version %d are not allowed to use ZStandard compression", version)
	}
	next, _, err := Next(rest, 0)
	if next != nil || err == ErrLegacyMagic {
		return nil, invalid("Produce requests with version %d are only allowed to contain exactly one record batch per partition", version)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}
