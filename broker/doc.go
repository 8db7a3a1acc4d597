// Package broker is the composition root of a kbroker process: it connects
// to ZooKeeper, settles the cluster id and broker id (config,
// meta.properties, /brokers/seqid), opens the log directories, builds the
// services (metadata cache, replica manager, admin service, API handler,
// wire server, controller), registers the broker, and shuts everything down
// in the reverse order (an orderly shutdown leaves a clean-shutdown marker
// in every log directory and closes the ZooKeeper session).
//
// It also follows the ZooKeeper session: when it expires the controller
// resigns at once; when a new session exists the broker registers again
// (a new broker epoch) and rejoins the election.
//
// Imports: every room.
package broker
