// Package group is the group coordinator: consumer groups of the classic
// protocol and their committed offsets, kept as records in the internal
// topic __consumer_offsets with Kafka's exact key and value schemas, so
// tools that read that topic understand what kbroker writes.
//
// Pieces: records.go (the record schemas: encoding as a Kafka 3.9
// broker writes them, decoding of every version an older broker may have
// written; byte layouts in docs/format/consumer-offsets.md), placement.go
// (abs(Java String.hashCode(group)) % partitions), coordinator.go (which
// __consumer_offsets partitions are led here: Elect loads one, Resign
// drops it, both through coordshard), group.go (a group's state and
// members), join.go, sync.go, members.go (the classic protocol: JoinGroup
// with MEMBER_ID_REQUIRED and static membership, SyncGroup, Heartbeat,
// LeaveGroup, session expiry), store.go (group metadata writes and
// Kafka's error mapping), offsets.go (OffsetCommit/OffsetFetch), expire.go
// (KIP-211 retention), load.go (rebuilding groups from the log), admin.go
// (DescribeGroups, ListGroups, DeleteGroups, OffsetDelete). The api package turns requests into calls
// here; the broker wires the Log over the replica manager.
//
// Concurrency: the coordshard.Set guards the map of led partitions
// (shards); each shard's mutex its group map; each group's mutex
// everything about that group: one owner per group, nothing shared across
// groups. Lock order shard set → shard → group. Waits (JoinGroup until the
// join phase ends, SyncGroup until the leader's assignment is stored)
// happen outside every lock, on channels; appends to the log happen
// outside the group lock and are applied afterwards if the group is still
// in the same generation. Timers (join phase, sync expiry, sessions) carry
// tokens so a stale timer does nothing.
// Imports: coordshard (the led partitions' lifecycle: election, loading,
// resignation; the layering rules would also allow interbroker);
// kmsg/kerr for schemas and errors, zerolog. The coordinator reaches the
// log through its Log interface, which the broker wires over the replica
// manager, never through commitlog or replica directly.
package group
