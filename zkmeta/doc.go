// Package zkmeta is kbroker's ZooKeeper room: every znode path Kafka's
// ZooKeeper mode uses, one codec per znode, and a typed client with sessions,
// watches as channels, and conditional and controller-epoch-fenced writes.
// It is the only package that imports github.com/go-zookeeper/zk; it imports
// nothing from the project but model.
//
// Paths and bytes (kafka-zk-spec.md §1, docs/zk-layout.md). All paths are
// relative to the chroot of zookeeper.connect ("h:2181/kafka"), which Connect
// creates when missing. JSON is compact with a fixed key order (MarshalX) and
// is read with encoding/json, ignoring unknown keys and accepting older
// versions (ParseX):
//
//	/brokers/ids/<id>         ephemeral  {"version":5,"host":..,"port":..,"jmx_port":-1,"timestamp":"ms",
//	                                      "endpoints":["L://h:p"],"listener_security_protocol_map":{..},
//	                                      ["rack":..,]"features":{..}}  (dataVersion 1, epoch = czxid)
//	/brokers/topics/<t>       persistent {"version":3,"partitions":{"0":[1,2]},"adding_replicas":{},
//	                                      "removing_replicas":{}[,"topic_id":".."]}
//	  /partitions/<p>/state   persistent {"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,
//	                                      "isr":[1,2][,"leader_recovery_state":1]} (zkVersion = partition epoch)
//	/controller               ephemeral  {"version":2,"brokerid":1,"timestamp":"ms","kraftControllerEpoch":-1}
//	/controller_epoch         persistent 1 (decimal text)
//	/cluster/id               persistent {"version":"1","id":".."}
//	/config/<type>/<name>     persistent {"version":1,"config":{"k":"v"}}
//	/admin/delete_topics/<t>  persistent null
//	/brokers/seqid            persistent empty; its zkVersion + reserved.broker.max.id is a new broker id
//
// Writes. Broker registration is a multi [create EPHEMERAL null, setData
// version 0]. Controller election is a multi [create /controller EPHEMERAL,
// setData /controller_epoch E+1 at its read version] and yields a Fence.
// Every controller write (partition states, topic znode, topic deletion,
// resignation) is a multi that starts with check(/controller_epoch,
// Fence.EpochZkVersion): if another controller was elected since, nothing is
// written and the error is ErrControllerMoved. Partition state updates are
// also conditional on the state znode's zkVersion, one multi per partition,
// so one BadVersion does not fail the others.
//
// Sessions and watches. Requests that fail because the connection dropped
// (the session may still be alive) are retried until ctx ends; a retried
// write that finds its own earlier attempt applied counts as success. ctx is
// checked between attempts, not during one (go-zookeeper has no
// cancellation). When the server expires the session, SessionEvents delivers
// SessionExpired (the lost id) and, once go-zookeeper has a new session,
// SessionEstablished (the new id): ephemeral nodes and watches of the old
// session are gone, so the owner must re-register, re-arm watches and
// re-elect. Watches are one-shot: each WatchX returns a channel that is
// closed when the watch fires, when the session expires or when the client
// closes; the caller then re-reads (re-arming the watch). A watch survives a
// mere reconnection within the session (go-zookeeper re-sets it).
//
// Concurrency. A Client is safe for concurrent use. It owns a goroutine that
// delivers session events, one that drains go-zookeeper's event channel, and
// one per pending watch; Close ends the session (ephemeral nodes vanish at
// once), closes every watch channel and SessionEvents, and waits for all of
// them.
package zkmeta
