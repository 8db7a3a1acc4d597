// Package admin owns topic administration in ZooKeeper mode: what
// CreateTopics, CreatePartitions and the admin tools may do to
// /brokers/topics and /config/topics, and how Kafka words each refusal.
//
// Its pure part, which needs neither ZooKeeper nor the network:
//
//   - assign.go: Kafka's replica assignment (AdminUtils.
//     assignReplicasToBrokers), rack-unaware and rack-aware, with a fixed or
//     random start; the start used when partitions are added; the checks of
//     manually assigned added partitions; broker lists per RackAwareMode.
//   - names.go: legal topic names, internal topics, '.'/'_' collisions.
//   - validate.go: the per-topic rules of CreateTopics and CreatePartitions
//     in Kafka's order, and the Error type that carries a Kafka error code
//     (kerr) with Kafka's message.
//
// ZooKeeper reads enter through the small TopicLookup interface; the
// ZooKeeper writes (creating /config/topics/<t> and /brokers/topics/<t>,
// rewriting the assignment when partitions are added) live in other files
// of this package and use zkmeta.
//
// May import: model, kerr (github.com/twmb/franz-go/pkg/kerr), zkmeta. Must
// not import the produce/fetch rooms, the controller or kmsg: request
// decoding stays in api, which converts to the plain types here.
//
// Concurrency: the functions are pure and safe for concurrent use. A nil
// Rand means math/rand/v2's global source, which is goroutine-safe; a
// caller-supplied Rand is used only by the calling goroutine.
//
// Errors: refusals are *Error values whose Unwrap is the *kerr.Error code,
// so errors.Is(err, kerr.InvalidPartitions) holds; WireMessage gives the
// response's error message (null for UNKNOWN_SERVER_ERROR, as Kafka). Any
// other error (a failed ZooKeeper read) maps to UNKNOWN_SERVER_ERROR.
package admin
