// Package kfaketest starts in-process franz-go kfake clusters for the tests
// of kbroker's command-line tools and runs a tool's run function the way its
// main does, capturing what it prints.
//
// It is imported only by _test.go files. kfake is a fake Kafka: its
// ApiVersions table, leader placement (random) and replica lists differ from
// Apache Kafka's and kbroker's, so tests built on it assert the tools'
// output formats and their request logic, not broker behaviour.
package kfaketest
