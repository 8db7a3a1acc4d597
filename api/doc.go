// Package api serves the Kafka APIs: one file per key (00_produce.go,
// 01_fetch.go, …). Each handler validates the request, calls a service
// (replica manager, metadata cache, admin service) and builds the response
// for the request's version with kmsg's constructors (so every field has
// Kafka's default). It also holds the ApiVersions table — only the keys
// implemented here are advertised, with the ranges of a Kafka 3.9
// ZooKeeper-mode broker — and the single mapping from Go errors to Kafka
// error codes (errors.go).
//
// Concurrency: Handler is goroutine-safe; netserver calls it from every
// connection's reader goroutine, one request at a time per connection.
// Imports: netserver, replica, metacache, admin, partition, record, model.
package api
