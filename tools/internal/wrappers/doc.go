// Package wrappers holds only a test: it runs the bash wrappers in scripts/
// (kafka-topics.sh, kafka-console-producer.sh, kafka-console-consumer.sh,
// kafka-broker-api-versions.sh, kafka-get-offsets.sh,
// kafka-producer-perf-test.sh, kafka-consumer-perf-test.sh,
// kafka-consumer-groups.sh) the way a user does,
// checking that each builds its tool, passes arguments and stdin through,
// and returns the tool's exit status.
package wrappers
