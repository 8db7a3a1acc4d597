// Package interbroker is the broker's outbound Kafka-protocol client: the
// controller's requests to brokers (LeaderAndIsr, UpdateMetadata,
// StopReplica) and followers' Fetch requests to leaders. Requests are kmsg
// messages framed with kmsg's request formatter; responses are decoded with
// kmsg. A Conn carries one request at a time, in order.
//
// Concurrency: Conn is goroutine-safe (requests serialise on a mutex).
// Imports: kmsg, kbin, model.
package interbroker
