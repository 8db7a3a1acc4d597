package zkmeta

import (
	"errors"

	"github.com/go-zookeeper/zk"
)

// Sentinel errors. Every error returned by this package wraps one of these or
// a go-zookeeper error with context (the path and the operation), so callers
// test them with errors.Is and never need to import go-zookeeper.
var (
	// ErrControllerMoved: a fenced write found /controller_epoch at another
	// zkVersion than the Fence's: another controller has been elected since.
	// Nothing of that write was applied. The controller must resign.
	ErrControllerMoved = errors.New("zkmeta: controller moved: /controller_epoch changed since election")
	// ErrControllerExists: ElectController lost; /controller names another
	// broker (or a stale node not owned by this session).
	ErrControllerExists = errors.New("zkmeta: another broker is the active controller")
	// ErrBrokerIDInUse: /brokers/ids/<id> is held by another live session.
	ErrBrokerIDInUse = errors.New("zkmeta: broker id is already registered by another session")
	// ErrTopicExists: the topic znode exists, or the topic is still marked
	// for deletion under /admin/delete_topics.
	ErrTopicExists = errors.New("zkmeta: topic already exists")
	// ErrTopicAlreadyMarked: /admin/delete_topics/<topic> exists already.
	ErrTopicAlreadyMarked = errors.New("zkmeta: topic is already marked for deletion")

	// ErrNoNode is go-zookeeper's "node does not exist".
	ErrNoNode = zk.ErrNoNode
	// ErrNodeExists is go-zookeeper's "node already exists".
	ErrNodeExists = zk.ErrNodeExists
	// ErrBadVersion is go-zookeeper's "version conflict" (a conditional
	// write found another zkVersion).
	ErrBadVersion = zk.ErrBadVersion
	// ErrSessionExpired is go-zookeeper's "session has been expired by the
	// server"; the ephemeral nodes of that session are gone.
	ErrSessionExpired = zk.ErrSessionExpired
	// ErrClosed is returned by calls made after (or racing with) Close.
	ErrClosed = errors.New("zkmeta: client closed")
)

// transient reports whether err is a connection-level failure after which the
// request may be retried once the client is connected again (the session may
// still be alive). ErrSessionExpired is not transient: the caller must react.
func transient(err error) bool {
	return errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrNoServer)
}
