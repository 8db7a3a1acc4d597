package netserver

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultMaxRequestSize is socket.request.max.bytes (100 MiB).
	DefaultMaxRequestSize int32 = 104857600
	// DefaultIdleTimeout is connections.max.idle.ms (10 minutes).
	DefaultIdleTimeout = 10 * time.Minute
)

// ListenerConfig is one listener: a name (as in listeners=NAME://host:port)
// and the address to bind. Port 0 binds a free port; Server.Addr tells which.
// An empty Host binds every interface.
type ListenerConfig struct {
	Name string
	Host string
	Port int
}

// Config configures a Server.
type Config struct {
	// Listeners to bind, in order. Names must be unique and non-empty.
	Listeners []ListenerConfig
	// MaxRequestSize is socket.request.max.bytes: a request frame whose
	// size prefix is larger closes the connection. 0 means
	// DefaultMaxRequestSize.
	MaxRequestSize int32
	// IdleTimeout is connections.max.idle.ms: a connection with nothing
	// read and nothing written for this long is closed (closing happens
	// between IdleTimeout and twice IdleTimeout after the last activity).
	// 0 means DefaultIdleTimeout; negative disables idle closing.
	IdleTimeout time.Duration
	// SendBufferBytes and ReceiveBufferBytes are socket.send.buffer.bytes
	// and socket.receive.buffer.bytes: SO_SNDBUF/SO_RCVBUF of accepted
	// sockets. 0 or negative leaves the operating system's default
	// (Kafka's -1).
	SendBufferBytes    int
	ReceiveBufferBytes int
	// Logger is the parent logger; the server adds component=netserver.
	Logger zerolog.Logger
}

// Header is the parsed request header. ClientID is "" when the client sent
// a null client id, and for ControlledShutdown v0 (request header v0).
type Header struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
}

// Conn describes the connection a request arrived on. The server never
// changes the exported fields after the connection is accepted.
type Conn struct {
	// ID is unique within one Server, starting at 1.
	ID uint64
	// Listener is the ListenerConfig.Name of the listener that accepted.
	Listener string
	// Local and Remote are the socket's addresses.
	Local, Remote net.Addr
	// State belongs to the Handler (for example a SASL state machine).
	// Handle calls for one connection never overlap and are ordered, so
	// Handle may read and write State without a lock; nothing else may.
	State any
}

// Request is one parsed request. Msg is at version Header.Version. Byte
// slices inside Msg (for example Produce records) alias a buffer that
// belongs to this request alone, so the handler may keep them.
type Request struct {
	Header
	Msg  kmsg.Request
	Conn *Conn
	// Received is when the last byte of the frame was read.
	Received time.Time
	// Size is the frame size without its 4-byte length prefix.
	Size int32
}

// FileData is a byte range of a file sent in place of a placeholder
// inside a response (see the package documentation).
type FileData struct {
	// Placeholder is the marker the handler put into the response as a
	// bytes field (for example a Fetch partition's Records). Use
	// NewPlaceholder. Each placeholder must appear exactly once.
	Placeholder []byte
	// File holds the data. If it implements syscall.Conn (as *os.File
	// does) the range is sent with sendfile(2) from the file's
	// descriptor (except to clients on the same host); otherwise it is
	// copied with ReadAt. The file's shared
	// read position is never used or moved. If File also has a
	// Stat() (os.FileInfo, error) method, a regular file shorter than
	// Offset+Size is detected before anything of the response is
	// written.
	File io.ReaderAt
	// Offset and Size select the bytes [Offset, Offset+Size).
	Offset, Size int64
	// Release, if set, is called exactly once when the server is done
	// with File: after the bytes were sent, or when the response is
	// dropped (connection failed or closed). It is called from the
	// connection's writer goroutine.
	Release func()
}

// Response is what a Handler returns.
type Response struct {
	// Msg is the response body. The server sets its version to the
	// request's version and its key must equal the request's key.
	Msg kmsg.Response
	// Files are spliced into the encoded Msg in place of their
	// placeholders.
	Files []FileData
	// NoResponse writes nothing (Produce with acks=0); later responses
	// keep their order.
	NoResponse bool
	// Close closes the connection after writing the response (if any)
	// and everything queued before it. No further request is read.
	Close bool
}

// Handler serves requests. The server knows nothing of API semantics: it
// asks VersionRange which versions exist and calls Handle for every
// well-formed request in range.
type Handler interface {
	// VersionRange returns the advertised version range of an API key;
	// ok=false means the key is not served (the connection is closed if
	// a client sends it). It is called for every request and must be
	// cheap and safe for concurrent use.
	VersionRange(key int16) (min, max int16, ok bool)
	// Handle serves one request and returns its response. It is called
	// from the connection's reader goroutine, one request at a time per
	// connection, in arrival order; different connections call it
	// concurrently. ctx is cancelled when the connection fails or the
	// server closes; Handle must then return promptly (Server.Close
	// waits for it). A nil Response, or one with a nil Msg and
	// NoResponse unset, closes the connection. A panic is recovered,
	// logged, and closes the connection.
	Handle(ctx context.Context, req *Request) *Response
}
