// Package controller is the cluster controller of a ZooKeeper-mode broker.
// Every broker runs one; the one whose ephemeral /controller znode exists
// is active. Election writes /controller and bumps /controller_epoch in one
// ZooKeeper multi, and every later controller write is fenced by a check of
// /controller_epoch's version, so a deposed (zombie) controller cannot
// write. The active controller owns the cluster's partition state: it
// creates partitions (leader = first live replica, ISR = live replicas),
// elects leaders when brokers die (first live ISR member in assignment
// order), removes dead replicas from ISRs, deletes topics, and tells
// brokers with LeaderAndIsr, UpdateMetadata and StopReplica — to itself too,
// over the network like to any broker.
//
// Concurrency: one goroutine (the event loop) owns all controller state;
// ZooKeeper watches, session changes and request callbacks only enqueue
// events. The loop and the per-broker senders belong to the Controller;
// Close stops and waits for them.
//
// Imports: zkmeta, interbroker, model, kmsg, zerolog. It never touches
// segments or logs.
package controller
